// The OperatorService methods Errand serves: custom search attributes.
#ifndef ERRAND_FRONTEND_OPERATOR_HANDLER_H_
#define ERRAND_FRONTEND_OPERATOR_HANDLER_H_

#include "errand/engine/namespace_registry.h"
#include "errand/frontend/service_table.h"

namespace errand::frontend {

void RegisterOperatorService(ServiceTable& table,
                             engine::NamespaceRegistry* namespaces);

}  // namespace errand::frontend

#endif  // ERRAND_FRONTEND_OPERATOR_HANDLER_H_
