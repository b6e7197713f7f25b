"""The agent's plan as a live tree: nodes are updated in place, keyed by their position."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from airlock.commands.printer import PLAN_ICONS
from airlock.events import PlanItem
from airlock.sanitize import sanitize

NodePath = tuple[int, ...]


class PlanTree(Tree[PlanItem]):
    """Shows `PlanUpdated` items; the step in progress stands out and is scrolled into view."""

    COMPONENT_CLASSES = {"plan-tree--in_progress", "plan-tree--done", "plan-tree--skipped"}
    DEFAULT_CSS = """
    PlanTree > .plan-tree--in_progress { color: $plan-in-progress; text-style: bold; }
    PlanTree > .plan-tree--done { color: $text-muted; }
    PlanTree > .plan-tree--skipped { color: $text-disabled; text-style: strike; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Plan", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._plan_nodes: dict[NodePath, TreeNode[PlanItem]] = {}

    def on_mount(self) -> None:
        self.border_title = "Plan"

    def show_plan(self, items: list[PlanItem]) -> None:
        """Make the tree match `items`, keeping the cursor and what the user expanded."""
        seen: set[NodePath] = set()
        self._sync(self.root, (), items, seen)
        for path in sorted(set(self._plan_nodes) - seen, key=len, reverse=True):
            self._plan_nodes.pop(path).remove()
        current = next(
            (node for node in self._plan_nodes.values() if node.data and _active(node.data)), None
        )
        if current is not None:
            self.scroll_to_node(current, animate=False)

    def _sync(
        self,
        parent: TreeNode[PlanItem],
        prefix: NodePath,
        items: list[PlanItem],
        seen: set[NodePath],
    ) -> None:
        for index, item in enumerate(items):
            path = (*prefix, index)
            seen.add(path)
            label = Text(f"{PLAN_ICONS[item.status]} {sanitize(item.title)}")
            node = self._plan_nodes.get(path)
            if node is None:
                node = parent.add(label, data=item, expand=True)
                self._plan_nodes[path] = node
            else:
                had_children = node.allow_expand
                node.set_label(label)
                node.data = item
                if item.children and not had_children:
                    node.expand()
            node.allow_expand = bool(item.children)
            self._sync(node, path, item.children, seen)

    def render_label(self, node: TreeNode[PlanItem], base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        if node.data is not None and node.data.status != "pending":
            component = f"plan-tree--{node.data.status}"
            label.stylize(self.get_component_rich_style(component, partial=True))
        return label


def _active(item: PlanItem) -> bool:
    """In progress, with no child in progress (the deepest active step)."""
    return item.status == "in_progress" and not any(_active(child) for child in item.children)
