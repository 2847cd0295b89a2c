"""The order of a template's steps and who depends on whom.

The plugin runs a step as soon as every step it depends on has ended, so
several may run at once; it sorts them with Kahn's algorithm over hash sets,
in no stable order.  flowstatus lists them in a stable topological order:
each step after every step it depends on, ties in template order.  Edges that
name no node are ignored and steps caught in a cycle (which the plugin
refuses to provision) come last, in template order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from flowstatus.domain.steps import StepGraph, StepNode


def ordered(graph: StepGraph) -> tuple[StepNode, ...]:
    """The graph's nodes, each after all it depends on; ties in template order."""
    position = {node.id: i for i, node in enumerate(graph.nodes)}
    waiting = {node.id: {a for a in node.after if a in position and a != node.id} for node in graph.nodes}
    followers: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for node_id, before in waiting.items():
        for other in before:
            followers[other].append(node_id)
    ready = [position[node_id] for node_id, before in waiting.items() if not before]
    heapq.heapify(ready)
    out: list[StepNode] = []
    while ready:
        node = graph.nodes[heapq.heappop(ready)]
        out.append(node)
        for follower in followers[node.id]:
            waiting[follower].discard(node.id)
            if not waiting[follower]:
                heapq.heappush(ready, position[follower])
    placed = {node.id for node in out}
    return (*out, *(node for node in graph.nodes if node.id not in placed))


def descendants(followers: Mapping[str, Sequence[str]], step_id: str) -> set[str]:
    """Every step that depends on ``step_id``, directly or not (``followers``: :func:`followers_of` the graph)."""
    found: set[str] = set()
    todo = [step_id]
    while todo:
        for follower in followers.get(todo.pop(), ()):
            if follower not in found:
                found.add(follower)
                todo.append(follower)
    return found


def followers_of(graph: StepGraph) -> dict[str, tuple[str, ...]]:
    """The steps that depend directly on each step."""
    out: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for node in graph.nodes:
        for before in node.after:
            if before in out:
                out[before].append(node.id)
    return {node_id: tuple(ids) for node_id, ids in out.items()}
