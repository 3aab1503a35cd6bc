"""Settings for the command line: every option also read from ``VNSEARCH_<OPTION>`` and from an
optional TOML file, precedence flag > environment > file > default (click's own order for an
option's envvar and its context's ``default_map``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import click

ENV_PREFIX = "VNSEARCH"
CONFIG_ENVVAR = "VNSEARCH_CONFIG"
_NOT_SETTINGS = {"help", "version", "config"}


class ConfigError(click.ClickException):
    """A configuration file that cannot be read, or a key or value in it that is wrong."""


def setting_name(param: click.Parameter) -> str | None:
    """The name an option goes by in the file and the environment (``--follow-symlinks`` →
    ``follow-symlinks``), or None for an argument or an option that is no setting (``--help``)."""
    if not isinstance(param, click.Option):
        return None
    longs = [o[2:] for o in param.opts if o.startswith("--")]
    if not longs or longs[0] in _NOT_SETTINGS:
        return None
    return longs[0]


def envvar_name(setting: str) -> str:
    """The environment variable a setting is read from (``port`` → ``VNSEARCH_PORT``), the same
    for every command that has it (a ``[command]`` table in the file sets one command's)."""
    return f"{ENV_PREFIX}_{setting.replace('-', '_').upper()}"


def attach_envvars(command: click.Command) -> None:
    """Give each of the command's settings its environment variable (unless it names its own)."""
    for param in command.params:
        setting = setting_name(param)
        if setting and param.envvar is None:
            param.envvar = envvar_name(setting)
            param.show_envvar = True


@dataclass(frozen=True)
class Setting:
    """One setting in docs/configuration.md's table: its name, the commands that take it, its help."""

    name: str
    commands: tuple[str, ...]
    help: str


def settings(group: click.Group) -> list[Setting]:
    """Every setting of the group and its commands, sorted by name."""
    found: dict[str, tuple[list[str], str]] = {}
    for cmd_name, command in [("", group), *sorted(group.commands.items())]:
        for param in command.params:
            setting = setting_name(param)
            if setting:
                commands, helps = found.setdefault(setting, ([], {}))
                commands.append(cmd_name or "vnsearch")
                helps.setdefault(param.help or "", []).append(cmd_name or "vnsearch")
    return [Setting(name, tuple(cmds), _one_help(helps)) for name, (cmds, helps) in sorted(found.items())]


def _one_help(helps: dict[str, list[str]]) -> str:
    """An option's help, or each command's where commands say different things (`serve --workers`)."""
    if len(helps) == 1:
        return next(iter(helps))
    return " ".join(f"{', '.join(cmds)}: {text}" for text, cmds in helps.items())


def settings_table(group: click.Group) -> str:
    """docs/configuration.md's table of every setting (a test checks that the page holds it as it is now)."""
    rows = ["| Option | Environment | File key | Commands | What it does |", "|---|---|---|---|---|"]
    for s in settings(group):
        what = s.help.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `--{s.name}` | `{envvar_name(s.name)}` | `{s.name}` | {', '.join(s.commands)} | {what} |")
    return "\n".join(rows) + "\n"


def load_config(path: Path, group: click.Group, ctx: click.Context) -> tuple[dict, dict[str, dict]]:
    """A TOML file as the group's own settings and click's ``default_map``: top-level keys for
    every command that has the setting, ``[command]`` tables for one command (they win). A key no
    command has, or a value its option refuses, is a ConfigError naming the file and the key."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"Cannot read the configuration file {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not TOML: {e}") from None
    commands = group.commands
    general = {k: v for k, v in data.items() if not (k in commands and isinstance(v, dict))}
    known = {s.name for s in settings(group)}
    for key in general:
        if _normal(key) not in known:
            raise ConfigError(f"{path}: unknown setting {key!r} (see vnsearch COMMAND --help)")
    default_map: dict[str, dict] = {}
    for cmd_name, command in commands.items():
        own = data.get(cmd_name, {}) if isinstance(data.get(cmd_name), dict) else {}
        by_setting = {setting_name(p): p for p in command.params if setting_name(p)}
        for key in own:
            if _normal(key) not in by_setting:
                raise ConfigError(f"{path}: [{cmd_name}] {key!r}: vnsearch {cmd_name} has no such setting")
        values = {}
        for where, table in (("", general), (f"[{cmd_name}] ", own)):
            for key, value in table.items():
                param = by_setting.get(_normal(key))
                if param is not None:
                    values[param.name] = _checked(param, value, ctx, f"{path}: {where}{key}")
        if values:
            default_map[cmd_name] = values
    own_params = {setting_name(p): p for p in group.params if setting_name(p)}
    group_values = {
        own_params[_normal(k)].name: _checked(own_params[_normal(k)], v, ctx, f"{path}: {k}")
        for k, v in general.items() if _normal(k) in own_params
    }
    return group_values, default_map


def _normal(key: str) -> str:
    return key.replace("_", "-")


def _checked(param: click.Option, value, ctx: click.Context, where: str):
    """``value`` as the option takes it (a TOML list only for an option that takes several)."""
    if isinstance(value, (dict, list)) and not (param.multiple and isinstance(value, list)):
        raise ConfigError(f"{where}: {value!r} is not a single value")
    if isinstance(value, bool) and not param.is_bool_flag:
        raise ConfigError(f"{where}: {str(value).lower()} is not a value this option takes")
    try:
        param.type_cast_value(ctx, value)
    except click.BadParameter as e:
        raise ConfigError(f"{where}: {e.message}") from None
    return value
