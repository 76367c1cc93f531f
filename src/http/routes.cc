#include "errand/http/routes.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"

namespace errand::http {
namespace {

// Methods Temporal keeps off its HTTP API that Errand's web UI needs:
// (verb, pattern, body, method full name).
struct ExtraBinding {
  const char* verb;
  const char* pattern;
  const char* body;
  const char* method;
};
constexpr ExtraBinding kErrandBindings[] = {
    {"DELETE", "/errand/v1/namespaces/{namespace}/activities/{activity_id}", "",
     "temporal.api.workflowservice.v1.WorkflowService.DeleteActivityExecution"},
};

absl::StatusOr<Binding> Parse(
    std::string verb, const std::string& pattern, std::string body,
    const google::protobuf::MethodDescriptor* method) {
  Binding binding;
  binding.verb = std::move(verb);
  binding.pattern = pattern;
  binding.body = std::move(body);
  binding.method = method;
  if (pattern.empty() || pattern[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(method->full_name(), ": pattern ", pattern));
  }
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(pattern).substr(1), '/')) {
    Binding::Segment segment;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      segment.variable = true;
      segment.text = std::string(part.substr(1, part.size() - 2));
      // {field=*} is {field}; anything else ({field=**}, verbs) is not
      // used by the Temporal API.
      if (absl::EndsWith(segment.text, "=*")) {
        segment.text.resize(segment.text.size() - 2);
      }
      if (segment.text.find_first_of("={}*") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            method->full_name(), ": unsupported pattern ", pattern));
      }
    } else if (part.find_first_of("{}*:") != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(method->full_name(), ": unsupported pattern ", pattern));
    } else {
      segment.text = std::string(part);
    }
    binding.segments.push_back(std::move(segment));
  }
  return binding;
}

absl::Status AddRule(const google::api::HttpRule& rule,
                     const google::protobuf::MethodDescriptor* method,
                     std::vector<Binding>* out) {
  std::string verb;
  std::string pattern;
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      verb = "GET", pattern = rule.get();
      break;
    case google::api::HttpRule::kPut:
      verb = "PUT", pattern = rule.put();
      break;
    case google::api::HttpRule::kPost:
      verb = "POST", pattern = rule.post();
      break;
    case google::api::HttpRule::kDelete:
      verb = "DELETE", pattern = rule.delete_();
      break;
    case google::api::HttpRule::kPatch:
      verb = "PATCH", pattern = rule.patch();
      break;
    default:
      return absl::OkStatus();
  }
  auto binding = Parse(std::move(verb), pattern, rule.body(), method);
  if (!binding.ok()) return binding.status();
  out->push_back(*std::move(binding));
  for (const google::api::HttpRule& more : rule.additional_bindings()) {
    if (absl::Status s = AddRule(more, method, out); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int HexValue(char c) {
  if (absl::ascii_isdigit(c)) return c - '0';
  c = absl::ascii_tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

}  // namespace

bool PercentDecode(absl::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

absl::StatusOr<RouteTable> RouteTable::Build(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  RouteTable table;
  for (const google::protobuf::ServiceDescriptor* service : services) {
    if (service == nullptr) {
      return absl::InvalidArgumentError("a service descriptor is missing");
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (!method->options().HasExtension(google::api::http)) continue;
      if (absl::Status s =
              AddRule(method->options().GetExtension(google::api::http), method,
                      &table.bindings_);
          !s.ok()) {
        return s;
      }
    }
  }
  const google::protobuf::DescriptorPool* pool =
      google::protobuf::DescriptorPool::generated_pool();
  for (const ExtraBinding& extra : kErrandBindings) {
    const google::protobuf::MethodDescriptor* method =
        pool->FindMethodByName(extra.method);
    if (method == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("no method ", extra.method));
    }
    auto binding = Parse(extra.verb, extra.pattern, extra.body, method);
    if (!binding.ok()) return binding.status();
    table.bindings_.push_back(*std::move(binding));
  }
  return table;
}

RouteMatch RouteTable::Match(absl::string_view verb,
                             absl::string_view path) const {
  RouteMatch best;
  if (path.empty() || path[0] != '/') return best;
  const std::vector<absl::string_view> parts =
      absl::StrSplit(path.substr(1), '/');
  // Literal positions of the best match so far: a literal beats a variable
  // at the first position where two matching patterns differ.
  std::vector<bool> best_literals;
  bool path_known = false;
  for (const Binding& binding : bindings_) {
    if (binding.segments.size() != parts.size()) continue;
    std::vector<bool> literals(parts.size());
    bool matches = true;
    for (size_t i = 0; i < parts.size() && matches; ++i) {
      const Binding::Segment& segment = binding.segments[i];
      literals[i] = !segment.variable;
      matches = segment.variable ? !parts[i].empty() : parts[i] == segment.text;
    }
    if (!matches) continue;
    path_known = true;
    if (binding.verb != verb) continue;
    if (best.binding != nullptr && !(literals > best_literals)) continue;
    best.binding = &binding;
    best_literals = std::move(literals);
  }
  if (best.binding == nullptr) {
    best.result = path_known ? RouteMatch::Result::kWrongMethod
                             : RouteMatch::Result::kNotFound;
    return best;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const Binding::Segment& segment = best.binding->segments[i];
    if (!segment.variable) continue;
    std::string value;
    if (!PercentDecode(parts[i], /*plus_is_space=*/false, &value)) {
      best.binding = nullptr;
      best.result = RouteMatch::Result::kNotFound;
      best.variables.clear();
      return best;
    }
    best.variables.emplace_back(segment.text, std::move(value));
  }
  best.result = RouteMatch::Result::kFound;
  return best;
}

}  // namespace errand::http
