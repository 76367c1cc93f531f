// The HTTP API's routes, read from the `google.api.http` annotations of the
// Temporal API's service methods: no route is written by hand, so every
// annotated method the gRPC services implement is reachable, under the
// paths Temporal gives it (each with and without the /api/v1 prefix).
// Errand's own additions (for methods Temporal does not expose over HTTP)
// are the same kind of binding, listed once in routes.cc.
#ifndef ERRAND_HTTP_ROUTES_H_
#define ERRAND_HTTP_ROUTES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace errand::http {

// One HTTP binding of one method: VERB /literal/{field.path}/literal.
struct Binding {
  struct Segment {
    std::string text;  // the literal, or the variable's field path
    bool variable = false;
  };
  std::string verb;  // GET, POST, PUT, PATCH, DELETE
  std::string pattern;
  std::vector<Segment> segments;
  // "*": the body is the whole request; "": no body, the request's other
  // fields come from the query string.
  std::string body;
  const google::protobuf::MethodDescriptor* method = nullptr;
};

struct RouteMatch {
  enum class Result { kFound, kNotFound, kWrongMethod };
  Result result = Result::kNotFound;
  const Binding* binding = nullptr;
  // Field path to the percent-decoded path segment it matched.
  std::vector<std::pair<std::string, std::string>> variables;
};

class RouteTable {
 public:
  // The bindings of every method of `services`, then Errand's own.
  // INVALID_ARGUMENT names a pattern this parser does not understand.
  static absl::StatusOr<RouteTable> Build(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  // The binding for `verb` and `path` (the raw request target's path,
  // still percent-encoded). Where several patterns match, the one with a
  // literal where the others have a variable, earliest, wins.
  RouteMatch Match(absl::string_view verb, absl::string_view path) const;

  const std::vector<Binding>& bindings() const { return bindings_; }

 private:
  std::vector<Binding> bindings_;
};

// Percent-decodes one path segment or query component ('+' stays as it is
// in a path; `plus_is_space` for query strings). False on a bad escape.
bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out);

}  // namespace errand::http

#endif  // ERRAND_HTTP_ROUTES_H_
