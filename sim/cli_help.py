"""One ``--help`` style for every ``sim`` command: ``Usage: sim run [OPTIONS] SCENARIO``, options with
an upper-case value name (``--db FILE``) or none (flags), never typer's ``<bool>``/``<path>`` type tags or
``{ARG}`` braces.

:class:`SimGroup` is the ``sim`` app's group class; typer builds every command and sub-app with its own
classes, so the group re-classes each child it hands out (:func:`adopt`), whoever declared it. (typer
vendors its own click: contexts and parameters here are typer's, typed ``Any``.)
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class SimArgument(TyperArgument):
    """An argument shown by name only (the help text says what it is)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


class SimCommand(TyperCommand):
    """A command whose usage line and option table follow the one style."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                name += "..." if param.nargs != 1 else ""
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            tidy_param(param)
        return params


class SimGroup(TyperGroup):
    """The ``sim`` group: its subcommands and sub-apps get the same help style."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            tidy_param(param)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        return adopt(command) if command is not None else None


def adopt(command: Any) -> Any:
    """Give a command built by typer (``TyperCommand``/``TyperGroup``, no extra state) the help style."""
    if type(command) is TyperCommand:
        command.__class__ = SimCommand
    elif type(command) is TyperGroup:
        command.__class__ = SimGroup
    return command


def tidy_param(param: Any) -> None:
    """No type tag for flags; an upper-case value name (``--db DB``) for options that did not set one;
    arguments shown by name only."""
    if type(param) is TyperArgument:
        param.__class__ = SimArgument
    elif isinstance(param, TyperOption) and param.metavar is None:
        param.metavar = "" if param.is_flag else (param.name or "value").upper()
