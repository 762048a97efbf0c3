"""Every action the code records has words in the one table of labels (art. 6: the trail is
read by people who are not engineers).

The actions are collected from the source: every string literal that looks like an action of
one of the register's apps ("notes.dossier.viewed", also when it is passed to a helper or kept
in a constant), and every f-string that builds one. An f-string's replacement field is resolved from
the calls of the helper it sits in (`_record("blocked", ...)`) or, where its value comes from
elsewhere, from `DYNAMIC` below; a new f-string that neither covers fails the test, so a new
action cannot go unlabelled.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from coachregister.audit import labels
from coachregister.audit.services import _ACTION
from coachregister.retention.models import Scope

pytestmark = pytest.mark.article("6")

ROOT = Path(__file__).resolve().parents[2]
APPS = sorted(p.name for p in ROOT.iterdir() if (p / "apps.py").exists())
APP = "(" + "|".join(APPS) + ")"
LOOKS_LIKE_ACTION = re.compile(APP + r"(\.[a-z_]+){2,}$")
# Strings shaped like an action that are not one (name them here, with what they are).
NOT_ACTIONS = {"practice.settings.publish_offer"}  # a session key (practice/views.py)
# f-strings whose replacement field is not an argument of a helper in the same module.
DYNAMIC = {"retention.{}.carried_out": [s.value for s in Scope]}


def _modules() -> list[tuple[Path, ast.Module]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if {"tests", "migrations", "testing"} & set(path.relative_to(ROOT).parts):
            continue
        if path == Path(labels.__file__).resolve():  # the table itself proves nothing
            continue
        found.append((path, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def _template(node: ast.JoinedStr) -> tuple[str, list[ast.expr]]:
    text, holes = "", []
    for part in node.values:
        if isinstance(part, ast.Constant):
            text += str(part.value)
        else:
            text += "{}"
            holes.append(part.value)  # type: ignore[attr-defined]
    return text, holes


def _helper_arguments(tree: ast.Module, node: ast.JoinedStr, hole: ast.expr) -> list[str] | None:
    """The literal values the helper around `node` is called with for the parameter `hole`
    names, or None when that cannot be read from this module."""
    if not isinstance(hole, ast.Name):
        return None
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not any(n is node for n in ast.walk(func)):
            continue
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        kwonly = [a.arg for a in func.args.kwonlyargs]
        if hole.id not in params + kwonly:
            continue
        values = []
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id == func.name):
                continue
            argument = next((k.value for k in call.keywords if k.arg == hole.id), None)
            if argument is None and hole.id in params and params.index(hole.id) < len(call.args):
                argument = call.args[params.index(hole.id)]
            if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                return None
            values.append(argument.value)
        return values or None
    return None


def recorded_actions() -> dict[str, str]:
    """Every action the source can record -> where it was found."""
    actions: dict[str, str] = {}
    for path, tree in _modules():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if LOOKS_LIKE_ACTION.match(node.value) and node.value not in NOT_ACTIONS:
                    actions.setdefault(node.value, f"{where}:{node.lineno}")
            elif isinstance(node, ast.JoinedStr):
                text, holes = _template(node)
                if not re.match(APP + r"\.", text) or "/" in text:
                    continue
                if len(holes) == 1 and (values := _helper_arguments(tree, node, holes[0])):
                    pass
                elif text in DYNAMIC:
                    values = DYNAMIC[text]
                else:
                    raise AssertionError(
                        f"{where}:{node.lineno}: cannot tell which actions {text!r} records; "
                        "add its values to DYNAMIC in this test and label them in labels.py")
                for value in values:
                    actions.setdefault(text.replace("{}", value), f"{where}:{node.lineno}")
    return actions


def test_every_recorded_action_has_a_label() -> None:
    actions = recorded_actions()
    # The collection itself works: plain literals, helper arguments and DYNAMIC are all seen.
    assert {"notes.dossier.viewed", "incidents.containment.blocked",
            "disclosures.proposal.consented", "retention.purge.carried_out"} <= set(actions)
    missing = {a: where for a, where in actions.items() if a not in labels.ACTION_LABELS}
    assert not missing, f"actions without a label in audit/labels.py: {missing}"


def test_the_table_holds_only_valid_actions_with_an_area() -> None:
    for action, label in labels.ACTION_LABELS.items():
        assert _ACTION.match(action), action
        assert action.partition(".")[0] in labels.AREA_LABELS, action
        assert str(label) and str(label) != action


def test_a_new_action_without_a_label_is_caught() -> None:
    """The scan would see an action added the ordinary way and one built in a helper."""
    source = (
        'event_record(action="notes.dossier.shredded_twice")\n'
        'def _rec(action, request):\n'
        '    event_record(action=f"incidents.containment.{action}")\n'
        '_rec("frozen", None)\n'
    )
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and LOOKS_LIKE_ACTION.match(node.value):
            found.add(node.value)
        elif isinstance(node, ast.JoinedStr):
            text, holes = _template(node)
            found.update(text.replace("{}", v) for v in _helper_arguments(tree, node, holes[0]) or [])
    assert found == {"notes.dossier.shredded_twice", "incidents.containment.frozen"}
    assert not found & set(labels.ACTION_LABELS)


def test_unknown_codes_show_as_themselves() -> None:
    with translation.override("en"):
        assert labels.action_label("accounts.login.failed") == "Sign-in failed"
        assert labels.action_label("old.gone.action") == "old.gone.action"
        assert labels.role_label("coach") == "Coach" and labels.role_label("") == ""
