// Binding a cpp-httplib server to a HOST:PORT setting, for every HTTP port
// Errand opens (the web UI and API, /metrics): one parser for the address,
// one socket policy, one error message.
#ifndef ERRAND_HTTP_LISTEN_H_
#define ERRAND_HTTP_LISTEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}

namespace errand::http {

// Binds `server` to `address` (HOST:PORT, [IPv6]:PORT; port 0 picks a free
// one) and returns the address bound, with the port resolved.
// INVALID_ARGUMENT "<setting>: expected HOST:PORT ..." for a malformed
// address; UNAVAILABLE "cannot listen on <address> for <purpose>: <why>"
// when it cannot be bound. Unlike cpp-httplib's default, the socket does not
// set SO_REUSEPORT, so a second server cannot share a port in use.
absl::StatusOr<std::string> Bind(httplib::Server& server,
                                 const std::string& address,
                                 absl::string_view setting,
                                 absl::string_view purpose);

}  // namespace errand::http

#endif  // ERRAND_HTTP_LISTEN_H_
