#include "errand/visibility/filter.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "errand/store/activity_record.h"
#include "errand/store/records.h"

namespace errand::visibility {

std::optional<int64_t> DatetimeNanos(const Literal& literal) {
  if (literal.kind == Literal::Kind::kInteger) return literal.integer;
  absl::Time t;
  std::string err;
  if (literal.kind != Literal::Kind::kString ||
      !absl::ParseTime(absl::RFC3339_full, literal.text, &t, &err)) {
    return std::nullopt;
  }
  return absl::ToUnixNanos(t);
}

namespace {

namespace enums = temporal::api::enums::v1;

enum class Type {
  kKeyword,
  kText,
  kDatetime,
  kInt,
  kDouble,
  kBool,
  kKeywordList
};

// A typed attribute value; monostate is NULL (e.g. CloseTime while running,
// or a custom attribute the execution does not set).
using Value = std::variant<std::monostate, std::string, int64_t, double,
                           std::vector<std::string>>;

struct Attribute {
  const char* name;
  Type type;
  Value (*get)(const Row&);
};

// A bound attribute: a system one or a custom one read from the row's
// search attributes.
struct BoundAttribute {
  std::string name;
  Type type;
  std::function<Value(const Row&)> get;
};

int64_t Nanos(const google::protobuf::Timestamp& t) {
  return absl::ToUnixNanos(store::FromProtoTime(t));
}

// The subset of JSON search attribute payloads use: a string, a number,
// true/false, or an array of strings.
using Json = std::variant<std::string, double, std::vector<std::string>>;

std::optional<std::string> JsonString(absl::string_view text, size_t& i) {
  if (i >= text.size() || text[i] != '"') return std::nullopt;
  std::string out;
  for (++i; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      ++i;
      return out;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= text.size()) return std::nullopt;
    switch (text[i]) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        int code = 0;
        if (i + 4 >= text.size() ||
            !absl::SimpleHexAtoi(text.substr(i + 1, 4), &code)) {
          return std::nullopt;
        }
        // Keywords are mostly ASCII; encode the BMP code point as UTF-8.
        if (code < 0x80) {
          out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out.push_back(static_cast<char>(0xc0 | (code >> 6)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
        } else {
          out.push_back(static_cast<char>(0xe0 | (code >> 12)));
          out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
          out.push_back(static_cast<char>(0x80 | (code & 0x3f)));
        }
        i += 4;
        break;
      }
      default:
        out.push_back(text[i]);
    }
  }
  return std::nullopt;
}

std::optional<Json> DecodeJson(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  if (text[0] == '"') {
    auto s = JsonString(text, i);
    if (!s || i != text.size()) return std::nullopt;
    return Json(*s);
  }
  if (text == "true") return Json(1.0);
  if (text == "false") return Json(0.0);
  if (text[0] == '[') {
    std::vector<std::string> items;
    i = 1;
    auto skip = [&] {
      while (i < text.size() && absl::ascii_isspace(text[i])) ++i;
    };
    skip();
    if (i < text.size() && text[i] == ']') return Json(items);
    while (i < text.size()) {
      skip();
      auto s = JsonString(text, i);
      if (!s) return std::nullopt;
      items.push_back(*s);
      skip();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == ']') return Json(items);
      return std::nullopt;
    }
    return std::nullopt;
  }
  double d = 0;
  if (absl::SimpleAtod(text, &d)) return Json(d);
  return std::nullopt;
}

// An Int attribute's JSON number as an int64: exact when written as an
// integer (a double would round values past 2^53, and -2^63 - 1 to -2^63),
// else from its decoded double if that is integral and inside int64's range.
// nullopt otherwise: converting a double outside the range is undefined
// behaviour.
std::optional<int64_t> JsonInt64(absl::string_view text, const Json& decoded) {
  text = absl::StripAsciiWhitespace(text);
  int64_t exact = 0;
  if (absl::SimpleAtoi(text, &exact)) return exact;
  absl::ConsumePrefix(&text, "-");
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) {
    return std::nullopt;  // an integer that does not fit
  }
  const auto* d = std::get_if<double>(&decoded);
  // -2^63 and 2^63 are exact doubles; NaN fails both comparisons.
  if (d == nullptr || std::trunc(*d) != *d || !(*d >= -0x1p63 && *d < 0x1p63)) {
    return std::nullopt;
  }
  return static_cast<int64_t>(*d);
}

Value Null(const Row&) { return std::monostate(); }

const Attribute kAttributes[] = {
    {"ActivityId", Type::kKeyword,
     [](const Row& r) -> Value { return r.activity_id(); }},
    {"ActivityType", Type::kKeyword,
     [](const Row& r) -> Value { return r.activity_type().name(); }},
    {"ExecutionStatus", Type::kKeyword,
     [](const Row& r) -> Value { return StatusName(r); }},
    {"TaskQueue", Type::kKeyword,
     [](const Row& r) -> Value { return r.task_queue(); }},
    {"RunId", Type::kKeyword, [](const Row& r) -> Value { return r.run_id(); }},
    {"StartTime", Type::kDatetime,
     [](const Row& r) -> Value { return Nanos(r.schedule_time()); }},
    {"ExecutionTime", Type::kDatetime,
     [](const Row& r) -> Value { return Nanos(r.execution_time()); }},
    {"CloseTime", Type::kDatetime,
     [](const Row& r) -> Value {
       if (!r.has_close_time()) return std::monostate();
       return Nanos(r.close_time());
     }},
    {"ExecutionDuration", Type::kInt,
     [](const Row& r) -> Value {
       if (!r.has_execution_duration()) return std::monostate();
       return absl::ToInt64Nanoseconds(
           store::FromProtoDuration(r.execution_duration()));
     }},
    {"StateTransitionCount", Type::kInt,
     [](const Row& r) -> Value { return r.state_transition_count(); }},
    {"HistorySizeBytes", Type::kInt,
     [](const Row& r) -> Value { return r.state_size_bytes(); }},
    // Temporal's workflow-only system attributes: queries may name them, as
    // on the real server, and an activity never has a value for them.
    {"WorkflowType", Type::kKeyword, Null},
    {"HistoryLength", Type::kInt, Null},
    {"ParentWorkflowId", Type::kKeyword, Null},
    {"ParentRunId", Type::kKeyword, Null},
    {"RootWorkflowId", Type::kKeyword, Null},
    {"RootRunId", Type::kKeyword, Null},
    {"BinaryChecksums", Type::kKeywordList, Null},
    {"BuildIds", Type::kKeywordList, Null},
    {"BatcherUser", Type::kKeyword, Null},
    {"TemporalChangeVersion", Type::kKeywordList, Null},
    {"TemporalScheduledStartTime", Type::kDatetime, Null},
    {"TemporalScheduledById", Type::kKeyword, Null},
    {"TemporalSchedulePaused", Type::kBool, Null},
    {"TemporalNamespaceDivision", Type::kKeyword, Null},
    {"TemporalPauseInfo", Type::kKeywordList, Null},
    {"TemporalReportedProblems", Type::kKeywordList, Null},
    {"TemporalWorkerDeployment", Type::kKeyword, Null},
    {"TemporalWorkerDeploymentVersion", Type::kKeyword, Null},
    {"TemporalWorkflowVersioningBehavior", Type::kKeyword, Null},
};

const char* TypeName(Type type) {
  switch (type) {
    case Type::kKeyword:
      return "Keyword";
    case Type::kText:
      return "Text";
    case Type::kDatetime:
      return "Datetime";
    case Type::kInt:
      return "Int";
    case Type::kDouble:
      return "Double";
    case Type::kBool:
      return "Bool";
    case Type::kKeywordList:
      return "KeywordList";
  }
  return "Unspecified";
}

enums::IndexedValueType IndexedType(Type type) {
  switch (type) {
    case Type::kKeyword:
      return enums::INDEXED_VALUE_TYPE_KEYWORD;
    case Type::kText:
      return enums::INDEXED_VALUE_TYPE_TEXT;
    case Type::kDatetime:
      return enums::INDEXED_VALUE_TYPE_DATETIME;
    case Type::kInt:
      return enums::INDEXED_VALUE_TYPE_INT;
    case Type::kDouble:
      return enums::INDEXED_VALUE_TYPE_DOUBLE;
    case Type::kBool:
      return enums::INDEXED_VALUE_TYPE_BOOL;
    case Type::kKeywordList:
      return enums::INDEXED_VALUE_TYPE_KEYWORD_LIST;
  }
  return enums::INDEXED_VALUE_TYPE_UNSPECIFIED;
}

std::optional<Type> CustomType(int32_t indexed_type) {
  switch (indexed_type) {
    case enums::INDEXED_VALUE_TYPE_TEXT:
      return Type::kText;
    case enums::INDEXED_VALUE_TYPE_KEYWORD:
      return Type::kKeyword;
    case enums::INDEXED_VALUE_TYPE_INT:
      return Type::kInt;
    case enums::INDEXED_VALUE_TYPE_DOUBLE:
      return Type::kDouble;
    case enums::INDEXED_VALUE_TYPE_BOOL:
      return Type::kBool;
    case enums::INDEXED_VALUE_TYPE_DATETIME:
      return Type::kDatetime;
    case enums::INDEXED_VALUE_TYPE_KEYWORD_LIST:
      return Type::kKeywordList;
    default:
      return std::nullopt;
  }
}

// Reads a custom attribute's payload (JSON, as every SDK encodes search
// attributes) as a value of `type`; NULL when absent or unreadable.
Value ReadCustom(const Row& row, const std::string& name, Type type) {
  const auto& fields = row.search_attributes().indexed_fields();
  auto it = fields.find(name);
  if (it == fields.end()) return std::monostate();
  const std::string& json = it->second.data();
  auto decoded = DecodeJson(json);
  if (!decoded) return std::monostate();
  switch (type) {
    case Type::kKeyword:
    case Type::kText:
      if (auto* s = std::get_if<std::string>(&*decoded)) return *s;
      return std::monostate();
    case Type::kDatetime: {
      absl::Time t;
      std::string err;
      if (auto* s = std::get_if<std::string>(&*decoded);
          s && absl::ParseTime(absl::RFC3339_full, *s, &t, &err)) {
        return absl::ToUnixNanos(t);
      }
      return std::monostate();
    }
    case Type::kInt:
    case Type::kBool:
      if (auto i = JsonInt64(json, *decoded)) return *i;
      return std::monostate();
    case Type::kDouble:
      if (auto* d = std::get_if<double>(&*decoded)) return *d;
      return std::monostate();
    case Type::kKeywordList:
      if (auto* l = std::get_if<std::vector<std::string>>(&*decoded)) return *l;
      if (auto* s = std::get_if<std::string>(&*decoded)) {
        return std::vector<std::string>{*s};
      }
      return std::monostate();
  }
  return std::monostate();
}

absl::StatusOr<BoundAttribute> Lookup(const std::string& name,
                                      const CustomAttributes& custom) {
  // Custom attributes first, then the system ones: Temporal accepts those
  // with or without their prefix, and WorkflowId as the column ActivityId
  // aliases.
  if (auto it = custom.find(name); it != custom.end()) {
    auto type = CustomType(it->second);
    if (type) {
      return BoundAttribute{name, *type, [name, t = *type](const Row& r) {
                              return ReadCustom(r, name, t);
                            }};
    }
  }
  std::string bare = absl::StartsWith(name, "Temporal") && name.size() > 8
                         ? name.substr(8)
                         : name;
  if (bare == "WorkflowId") bare = "ActivityId";
  for (const Attribute& a : kAttributes) {
    if (name == a.name || bare == a.name) {
      return BoundAttribute{a.name, a.type, a.get};
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid query: invalid search attribute: ", name));
}

// Temporal's wording for a literal the attribute's type cannot take.
absl::Status BadValue(const BoundAttribute& a, const Literal& l) {
  if (a.type == Type::kDatetime && l.kind == Literal::Kind::kString) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid query: invalid expression: unable to parse datetime '", l.text,
        "'"));
  }
  const char* literal_type = l.kind == Literal::Kind::kString    ? "string"
                             : l.kind == Literal::Kind::kInteger ? "int64"
                             : l.kind == Literal::Kind::kFloat   ? "float64"
                                                                 : "bool";
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid query: invalid expression: invalid value type for search "
      "attribute ",
      a.name, " of type ", TypeName(a.type), ": ", l.text,
      " (type: ", literal_type, ")"));
}

absl::StatusOr<Value> Convert(const BoundAttribute& a, const Literal& l) {
  switch (a.type) {
    case Type::kKeyword:
    case Type::kText:
    case Type::kKeywordList:
      // Like Temporal, an unknown ExecutionStatus value (they are case
      // sensitive) matches nothing rather than failing.
      if (l.kind != Literal::Kind::kString) {
        return BadValue(a, l);
      }
      return Value(l.text);
    case Type::kDatetime: {
      const std::optional<int64_t> nanos = DatetimeNanos(l);
      if (!nanos) {
        return BadValue(a, l);
      }
      return Value(*nanos);
    }
    case Type::kInt: {
      if (l.kind == Literal::Kind::kInteger) return Value(l.integer);
      absl::Duration d;
      if (l.kind == Literal::Kind::kString && absl::ParseDuration(l.text, &d)) {
        return Value(absl::ToInt64Nanoseconds(d));
      }
      return BadValue(a, l);
    }
    case Type::kDouble:
      if (l.kind == Literal::Kind::kInteger ||
          l.kind == Literal::Kind::kFloat) {
        return Value(l.number);
      }
      return BadValue(a, l);
    case Type::kBool:
      if (l.kind == Literal::Kind::kBool) return Value(int64_t{l.boolean});
      return BadValue(a, l);
  }
  return BadValue(a, l);
}

// SQL semantics: any comparison with NULL is false. A keyword list matches
// = and IN when any of its items does.
bool CompareValues(const Value& v, CompareOp op, const Value& want) {
  if (std::holds_alternative<std::monostate>(v)) return false;
  if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    const auto& w = std::get<std::string>(want);
    const bool any = std::find(list->begin(), list->end(), w) != list->end();
    if (op == CompareOp::kEq) return any;
    if (op == CompareOp::kNe) return !any;
    return false;
  }
  if (op == CompareOp::kStartsWith) {
    return absl::StartsWith(std::get<std::string>(v),
                            std::get<std::string>(want));
  }
  const bool lt = v < want, eq = v == want;
  switch (op) {
    case CompareOp::kEq:
      return eq;
    case CompareOp::kNe:
      return !eq;
    case CompareOp::kLt:
      return lt;
    case CompareOp::kLe:
      return lt || eq;
    case CompareOp::kGt:
      return !lt && !eq;
    case CompareOp::kGe:
      return !lt;
    default:
      return false;
  }
}

absl::StatusOr<Filter> Bind(const Expr& expr, const CustomAttributes& custom) {
  return std::visit(
      [&custom](const auto& n) -> absl::StatusOr<Filter> {
        using N = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<N, Compare>) {
          auto attr = Lookup(n.attribute, custom);
          if (!attr.ok()) return attr.status();
          if (n.op == CompareOp::kStartsWith && attr->type != Type::kKeyword) {
            return absl::InvalidArgumentError(
                absl::StrCat("invalid query: STARTS_WITH needs a keyword "
                             "attribute; ",
                             n.attribute, " is not one"));
          }
          auto want = Convert(*attr, n.value);
          if (!want.ok()) return want.status();
          return Filter(
              [get = attr->get, op = n.op, want = *want](const Row& r) {
                return CompareValues(get(r), op, want);
              });
        } else if constexpr (std::is_same_v<N, InList>) {
          auto attr = Lookup(n.attribute, custom);
          if (!attr.ok()) return attr.status();
          std::vector<Value> values;
          for (const auto& l : n.values) {
            auto v = Convert(*attr, l);
            if (!v.ok()) return v.status();
            values.push_back(*v);
          }
          return Filter(
              [get = attr->get, values, negated = n.negated](const Row& r) {
                const Value v = get(r);
                if (std::holds_alternative<std::monostate>(v)) return false;
                bool found = false;
                for (const auto& w : values) {
                  found = found || CompareValues(v, CompareOp::kEq, w);
                }
                return found != negated;
              });
        } else if constexpr (std::is_same_v<N, Between>) {
          auto attr = Lookup(n.attribute, custom);
          if (!attr.ok()) return attr.status();
          auto low = Convert(*attr, n.low);
          if (!low.ok()) return low.status();
          auto high = Convert(*attr, n.high);
          if (!high.ok()) return high.status();
          return Filter([get = attr->get, low = *low, high = *high,
                         negated = n.negated](const Row& r) {
            const Value v = get(r);
            if (std::holds_alternative<std::monostate>(v)) return false;
            const bool inside = CompareValues(v, CompareOp::kGe, low) &&
                                CompareValues(v, CompareOp::kLe, high);
            return inside != negated;
          });
        } else if constexpr (std::is_same_v<N, IsNull>) {
          auto attr = Lookup(n.attribute, custom);
          if (!attr.ok()) return attr.status();
          return Filter([get = attr->get, negated = n.negated](const Row& r) {
            return std::holds_alternative<std::monostate>(get(r)) != negated;
          });
        } else if constexpr (std::is_same_v<N, And> || std::is_same_v<N, Or>) {
          // One filter per chain, which tries its terms in a loop: binding
          // and evaluation recurse only as deep as the query nests, which
          // the parser bounds, however long the chain.
          std::vector<Filter> terms;
          terms.reserve(n.operands.size());
          for (const auto& operand : n.operands) {
            auto term = Bind(*operand, custom);
            if (!term.ok()) return term.status();
            terms.push_back(*std::move(term));
          }
          constexpr bool kAnd = std::is_same_v<N, And>;
          return Filter([terms = std::move(terms)](const Row& row) {
            for (const Filter& term : terms) {
              // AND stops at the first false term, OR at the first true.
              if (term(row) != kAnd) return !kAnd;
            }
            return kAnd;
          });
        } else {
          auto operand = Bind(*n.operand, custom);
          if (!operand.ok()) return operand.status();
          return Filter([o = *operand](const Row& r) { return !o(r); });
        }
      },
      expr.node);
}

}  // namespace

std::string StatusName(const Row& row) {
  return store::ExecutionStatusName(row.status());
}

absl::StatusOr<Filter> BindFilter(const Expr* where,
                                  const CustomAttributes& custom) {
  if (where == nullptr) return Filter([](const Row&) { return true; });
  return Bind(*where, custom);
}

std::vector<std::pair<std::string, enums::IndexedValueType>>
SystemAttributes() {
  std::vector<std::pair<std::string, enums::IndexedValueType>> out;
  for (const Attribute& a : kAttributes) {
    out.emplace_back(a.name, IndexedType(a.type));
  }
  return out;
}

bool IsSystemAttribute(const std::string& name) {
  if (name == "WorkflowId" || absl::StartsWith(name, "Temporal")) return true;
  for (const Attribute& a : kAttributes) {
    if (name == a.name) return true;
  }
  return false;
}

absl::Status CheckCustomValue(const std::string& name, int32_t indexed_type,
                              const temporal::api::common::v1::Payload& value) {
  // A null payload unsets the attribute; there is nothing to check.
  if (auto it = value.metadata().find("encoding");
      it != value.metadata().end() && it->second == "binary/null") {
    return absl::OkStatus();
  }
  const absl::string_view text = absl::StripAsciiWhitespace(value.data());
  const std::optional<Json> decoded = DecodeJson(text);
  const auto* number = decoded ? std::get_if<double>(&*decoded) : nullptr;
  const auto* string = decoded ? std::get_if<std::string>(&*decoded) : nullptr;
  const bool is_bool = text == "true" || text == "false";
  bool valid = false;
  switch (indexed_type) {
    case enums::INDEXED_VALUE_TYPE_KEYWORD:
    case enums::INDEXED_VALUE_TYPE_TEXT:
    case enums::INDEXED_VALUE_TYPE_KEYWORD_LIST:
      valid = string != nullptr ||
              (decoded &&
               std::holds_alternative<std::vector<std::string>>(*decoded));
      break;
    case enums::INDEXED_VALUE_TYPE_INT:
      valid = decoded && !is_bool && JsonInt64(text, *decoded).has_value();
      break;
    case enums::INDEXED_VALUE_TYPE_DOUBLE:
      valid = number != nullptr && !is_bool;
      break;
    case enums::INDEXED_VALUE_TYPE_BOOL:
      valid = is_bool;
      break;
    case enums::INDEXED_VALUE_TYPE_DATETIME: {
      absl::Time t;
      std::string err;
      valid = string != nullptr &&
              absl::ParseTime(absl::RFC3339_full, *string, &t, &err);
      break;
    }
    default:
      valid = true;  // a type this server does not know: nothing to check
  }
  if (valid) return absl::OkStatus();
  const auto type = CustomType(indexed_type);
  const std::string pretty = type ? TypeName(*type) : "Unspecified";
  // The value as Go's %v prints the decoded JSON: strings bare, lists as
  // [a b].
  std::string shown = string != nullptr ? *string : std::string(text);
  if (absl::StartsWith(shown, "[")) {
    shown = absl::StrReplaceAll(shown, {{"\"", ""}, {", ", " "}, {",", " "}});
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value for search attribute ", name, " of type ",
                   pretty, ": ", shown));
}

void ListedSearchAttributes(
    const CustomAttributes& custom,
    temporal::api::common::v1::SearchAttributes* attributes) {
  auto* fields = attributes->mutable_indexed_fields();
  for (auto it = fields->begin(); it != fields->end();) {
    auto registered = custom.find(it->first);
    if (registered == custom.end()) {
      fields->erase(it++);
      continue;
    }
    auto& metadata = *it->second.mutable_metadata();
    if (const auto type = CustomType(registered->second);
        type && !metadata.contains("type")) {
      metadata["type"] = TypeName(*type);
    }
    ++it;
  }
}

}  // namespace errand::visibility
