// The web UI's files (src/http/ui/), embedded in the binary at build time
// (cmake/EmbedFiles.cmake): the UI needs no network and no files at run time.
#ifndef ERRAND_HTTP_UI_ASSETS_H_
#define ERRAND_HTTP_UI_ASSETS_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace errand::http {

struct UiAsset {
  absl::string_view path;  // "/index.html", "/app.js", ...
  absl::string_view content_type;
  absl::string_view content;
};

// The asset served at `path` ("/" is "/index.html"); null if none.
const UiAsset* FindUiAsset(absl::string_view path);

// Every asset, for the page weight.
absl::Span<const UiAsset> UiAssets();

}  // namespace errand::http

#endif  // ERRAND_HTTP_UI_ASSETS_H_
