"""An import-linter contract type the built-in ones lack: no import cycle between the
project's top-level apps, whatever their layer (the layers contract lets the platform
core's apps import one another, so it cannot see a circle between them).

Used by ``.importlinter`` (``contract_types``); ``make lint`` and CI run it with the rest,
and ``tests/core/test_architecture.py`` runs every contract in the test suite too.
"""

from typing import Any

import grimp
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def package_cycles(graph: grimp.ImportGraph, packages: list[str]) -> list[list[str]]:
    """Each strongly connected group (of two or more) of ``packages`` by their modules' imports."""
    edges: dict[str, set[str]] = {package: set() for package in packages}
    for importer in packages:
        for imported in packages:
            if importer != imported and graph.direct_import_exists(
                importer=importer, imported=imported, as_packages=True
            ):
                edges[importer].add(imported)
    # Tarjan's algorithm, iteratively small: the graph has a dozen nodes.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for package in packages:
        if package not in index:
            visit(package)
    return sorted(groups)


class AcyclicPackagesContract(Contract):
    """No import cycle between ``packages`` (each taken whole, imports at call time included)."""

    type_name = "acyclic_packages"

    packages = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        packages: list[str] = list(self.packages)  # type: ignore[call-overload]
        cycles = package_cycles(graph, packages)
        details: list[dict[str, Any]] = []
        for group in cycles:
            links = []
            for importer in group:
                for imported in group:
                    if importer == imported:
                        continue
                    for module in sorted(graph.find_descendants(importer) | {importer}):
                        for target in sorted(graph.find_modules_directly_imported_by(module)):
                            if target == imported or target.startswith(imported + "."):
                                lines = [
                                    d["line_number"] for d in graph.get_import_details(importer=module, imported=target)
                                ]
                                links.append(f"{module} -> {target} (l.{', l.'.join(map(str, lines))})")
            details.append({"packages": group, "links": links})
        return ContractCheck(
            kept=not cycles,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"cycles": details},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"Import cycle between {', '.join(cycle['packages'])}:", bold=False)
            output.new_line()
            for link in cycle["links"]:
                output.indent_cursor()
                output.print_error(f"- {link}", bold=False)
            output.new_line()
