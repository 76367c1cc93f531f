#!/usr/bin/env python3
"""Writes the Temporal API definitions as a protobuf FileDescriptorSet.

The definitions come from the pinned `temporalio` Python wheel, which carries
every `temporal/api/...` file as a compiled descriptor. Nothing upstream is
copied into this repository: the build runs this script and feeds its output
to `protoc --descriptor_set_in`.

protoc 3.21's C++ generator emits `namespace namespace {` for packages whose
name is a C++ keyword, so such package components get a trailing underscore
(`temporal.api.namespace.v1` becomes `temporal.api.namespace_.v1`). Messages
travel by field number and gRPC paths use the service name, so the wire is
unchanged.

Usage: temporal_api_descriptors.py OUT.desc OUT.files
  OUT.files lists (one per line) the files C++ code must be generated for.
"""
import importlib
import pkgutil
import sys

from google.protobuf import descriptor_pb2, descriptor_pool

ROOTS = [
    "temporal/api/workflowservice/v1/service.proto",
    "temporal/api/operatorservice/v1/service.proto",
    "temporal/api/errordetails/v1/message.proto",
    "google/rpc/status.proto",
]

CPP_KEYWORDS = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case",
    "catch", "char", "class", "const", "constexpr", "continue", "default",
    "delete", "do", "double", "else", "enum", "explicit", "export", "extern",
    "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
    "mutable", "namespace", "new", "noexcept", "not", "nullptr", "operator",
    "or", "private", "protected", "public", "register", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "template", "this",
    "throw", "true", "try", "typedef", "typeid", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "while", "xor",
}


def load_all_modules():
    import temporalio.api
    import google.rpc.status_pb2  # noqa: F401  (registers google/rpc/status.proto)

    for mod in pkgutil.walk_packages(temporalio.api.__path__, "temporalio.api."):
        if not mod.name.endswith("_pb2") or ".cloud." in mod.name:
            continue
        importlib.import_module(mod.name)


def safe_package(package):
    return ".".join(p + "_" if p in CPP_KEYWORDS else p for p in package.split("."))


def rename_type(name, renames):
    # Fully qualified references start with a dot: ".pkg.Message".
    for old, new in renames.items():
        prefix = "." + old + "."
        if name.startswith(prefix):
            return "." + new + "." + name[len(prefix):]
    return name


def rewrite_messages(messages, renames):
    for msg in messages:
        for field in list(msg.field) + list(msg.extension):
            if field.type_name:
                field.type_name = rename_type(field.type_name, renames)
            if field.extendee:
                field.extendee = rename_type(field.extendee, renames)
        rewrite_messages(msg.nested_type, renames)


def main():
    out_desc, out_files = sys.argv[1], sys.argv[2]
    load_all_modules()
    pool = descriptor_pool.Default()

    ordered, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        fd = pool.FindFileByName(name)
        for dep in fd.dependencies:
            visit(dep.name)
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        ordered.append(proto)

    for root in ROOTS:
        visit(root)

    renames = {p.package: safe_package(p.package) for p in ordered
               if safe_package(p.package) != p.package}
    file_set = descriptor_pb2.FileDescriptorSet()
    for proto in ordered:
        proto.package = renames.get(proto.package, proto.package)
        rewrite_messages(proto.message_type, renames)
        for ext in proto.extension:
            ext.type_name = rename_type(ext.type_name, renames) if ext.type_name else ""
            ext.extendee = rename_type(ext.extendee, renames)
        for service in proto.service:
            for method in service.method:
                method.input_type = rename_type(method.input_type, renames)
                method.output_type = rename_type(method.output_type, renames)
        file_set.file.append(proto)

    # libprotobuf already carries the well-known types.
    generated = [p.name for p in ordered if not p.name.startswith("google/protobuf/")]
    write_if_changed(out_desc, file_set.SerializeToString())
    write_if_changed(out_files, ("\n".join(generated) + "\n").encode())


def write_if_changed(path, data):
    """Keeps the file's timestamp when nothing changed, so a re-configure does
    not make protoc and the compiler redo the whole API."""
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
