"""The mesh's lineage: which products feed which (`contract.lineage.upstream`). Pure.

Two things a user can get wrong are problems of the file that says them, at the line of the
upstream entry: an upstream that names no product of the mesh, and a cycle (a → b → a). Neither
refuses the contract — the product is still monitored, its lineage is only less useful: an
unknown upstream is left out of the graph, a cycle is reported on every file in it and the walk
upstream stops where it comes round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from monitor.contracts.model import DataProduct
from monitor.contracts.problems import Problem, field_name
from monitor.contracts.yamlsource import YamlDocument, reread

UPSTREAM_FIELD = ("contract", "lineage", "upstream")


@dataclass(frozen=True)
class Lineage:
    """The lineage graph of the products that loaded: `upstream[p]` the products feeding `p`
    directly (unknown ids left out), in the contract's order."""

    upstream: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, products: Iterable[DataProduct]) -> Lineage:
        known = {product.id: product for product in products}
        return cls({pid: tuple(dict.fromkeys(u for u in p.upstream if u in known))
                    for pid, p in known.items()})

    @classmethod
    def declared(cls, products: Iterable[DataProduct]) -> Lineage:
        """As the contracts say, unknown ids kept: for a worker that holds a shard of the mesh,
        whose upstream products may be another worker's."""
        return cls({p.id: tuple(dict.fromkeys(p.upstream)) for p in products})

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs: the arrows of the mesh picture, data flowing along."""
        return [(source, product) for product, sources in self.upstream.items()
                for source in sources]

    def ancestors(self, product: str) -> list[str]:
        """Every product `product` reads from, directly or through others, nearest first (breadth
        first); never `product` itself, even in a cycle."""
        found: dict[str, None] = {}
        frontier = list(self.upstream.get(product, ()))
        while frontier:
            following: list[str] = []
            for source in frontier:
                if source == product or source in found:
                    continue
                found[source] = None
                following += self.upstream.get(source, ())
            frontier = following
        return list(found)

    def cycles(self) -> list[list[str]]:
        """The strongly connected parts with a loop (a product upstream of itself), each sorted,
        in order of their first product."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        parts: list[list[str]] = []

        def visit(node: str) -> None:  # Tarjan; a mesh is small, recursion depth is its size
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for source in self.upstream.get(node, ()):
                if source not in index:
                    visit(source)
                    low[node] = min(low[node], low[source])
                elif source in on_stack:
                    low[node] = min(low[node], index[source])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                if len(part) > 1 or node in self.upstream.get(node, ()):
                    parts.append(sorted(part))

        for node in sorted(self.upstream):
            if node not in index:
                visit(node)
        return sorted(parts)

    def path_within(self, start: str, members: set[str]) -> list[str]:
        """The shortest loop from `start` back to itself through `members` (one cycle), for the
        message: `a/x → b/y → a/x`."""
        previous: dict[str, str] = {}
        frontier = [start]
        while frontier:
            following = []
            for node in frontier:
                for source in self.upstream.get(node, ()):
                    if source == start:
                        path = [node]
                        while path[-1] != start:
                            path.append(previous[path[-1]])
                        return [start, *reversed(path[:-1]), start] if node != start \
                            else [start, start]
                    if source in members and source not in previous:
                        previous[source] = node
                        following.append(source)
            frontier = following
        return [start, start]


def lineage_problems(products: Iterable[DataProduct]) -> list[Problem]:
    """Unknown upstreams and lineage cycles, each at the line of its upstream entry."""
    products = list(products)
    known = {product.id for product in products}
    lineage = Lineage.of(products)
    found: list[tuple[DataProduct, int, str]] = []  # (product, position in upstream, message)
    for product in products:
        for position, source in enumerate(product.upstream):
            if source not in known:
                found.append((product, position, f"no product {source!r} in the mesh (its "
                                                 f"lineage is drawn without it)"))
    by_id = {product.id: product for product in products}
    for part in lineage.cycles():
        members = set(part)
        for member in part:
            product = by_id[member]
            loop = " → ".join(lineage.path_within(member, members))
            position = next(i for i, s in enumerate(product.upstream) if s in members)
            found.append((product, position, f"lineage cycle: {loop} (each lists the next "
                                             f"as upstream)"))
    documents: dict[str, YamlDocument | None] = {}
    problems = []
    for product, position, message in found:
        if product.source not in documents:
            documents[product.source] = reread(product.source)
        location = (*UPSTREAM_FIELD, position)
        document = documents[product.source]
        line = document.line_of(location) if document is not None else 1
        problems.append(Problem(product.source, line, field_name(location), message))
    return sorted(problems)
