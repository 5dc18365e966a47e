"""Words fixed when a module is imported are fixed in English: a form's label, a table of
labels or an API field's help written with ``gettext`` at module or class level reads English
on every page. Those take ``gettext_lazy``; ``gettext`` is for words written while serving."""

import ast
from pathlib import Path

from django.conf import settings

APPS = ["platform", "tasks", "payouts", "disputes", "governance", "mturk", "webhooks", "staff", "frontend"]
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}


def eager_calls(source: str) -> list[int]:
    """The lines calling an eager gettext (under any name it is imported as) outside a function."""
    tree = ast.parse(source)
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.name in EAGER
    }
    found: list[int] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            in_function = True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names and not in_function:
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return found


def test_the_check_finds_a_label_fixed_at_import() -> None:
    source = (
        "from django.utils.translation import gettext as _, gettext_lazy\n"
        "class Form:\n    code = Field(label=_('Code'), help=gettext_lazy('Fine'))\n"
        "def view():\n    return _('Fine too')\n"
    )
    assert eager_calls(source) == [3]


def test_no_module_fixes_words_in_english_at_import() -> None:
    base = Path(settings.BASE_DIR)
    found = [
        f"{path.relative_to(base)}:{line}"
        for app in APPS
        for path in sorted((base / app).rglob("*.py"))
        if "migrations" not in path.parts
        for line in eager_calls(path.read_text(encoding="utf-8"))
    ]
    assert found == []
