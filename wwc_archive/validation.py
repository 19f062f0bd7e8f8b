"""The building blocks of the config schema (pydantic v2) and its one-line error messages.

Every table of the config is a :class:`Model`: unknown keys are errors, values
are not coerced between types (``5`` is not a string, ``"5"`` not a number,
``1e300`` not a whole number), numbers must be finite. A
:class:`pydantic.ValidationError` becomes a :class:`ConfigError` with one line
per problem, each naming the key (``[report].smtp_port must be a whole number,
not '25'``).
"""

import difflib
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


class ConfigError(ValueError):
    """The configuration file or a flag is not usable; each line of the message is one problem."""

    @property
    def problems(self) -> list[str]:
        return str(self).splitlines()


class Model(BaseModel):
    """A config table: no unknown keys, no type coercion, immutable (and hashable)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=False)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
#: No wait, delay or grace in the config is longer than this.
MAX_SECONDS = 366 * 86400


def parse_duration(value) -> float:
    """Seconds from a number of seconds or a string such as ``"90s"``, ``"30m"``, ``"6h"``, ``"1h30m"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"must be a finite number of seconds, not {value!r}")
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts) == text.replace(" ", ""):
            return float(sum(float(n) * _UNITS[u] for n, u in parts))
    raise ValueError(f"must be seconds or a duration like '30m' or '6h', not {value!r}")


#: A duration: seconds, or "30m"/"6h"/"1h30m"; finite, >= 0 and at most a year.
Seconds = Annotated[float, BeforeValidator(parse_duration),
                    Field(strict=False, ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
#: A non-empty string.
Text = Annotated[str, Field(min_length=1)]


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"is not a valid regular expression ({error})") from None
    return pattern


#: A regular expression (Python syntax), compiled once to check it.
Pattern = Annotated[str, AfterValidator(_regex)]


def one_of(*choices: str):
    """A validator that accepts only these strings."""

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {value!r}")
        return value

    return AfterValidator(check)


def validate(model: type[BaseModel], data, where: str = ""):
    """``model`` built from ``data``; raises :class:`ConfigError` with one line per problem.

    ``where`` names the table in messages (``[report]``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError("\n".join(problem_lines(error, model, where))) from None


def problem_lines(error: ValidationError, model: type[BaseModel], where: str = "", table_names=None,
                  program_names=None) -> list[str]:
    """One line per problem. At the top of a file (no ``where``), tables are named as in TOML
    (``table_names``: ``{"report": "[report]"}``) and programs by ``program_names`` (index -> name)."""
    lines = []
    for problem in error.errors(include_url=False):
        loc = problem["loc"]
        if not where and len(loc) == 1 and problem["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(loc[0]), list(table_names or ()), n=1)
            hint = f" (did you mean {table_names[close[0]]}?)" if close else \
                f" (known: {', '.join((table_names or {}).values())})"
            lines.append(f"[{loc[0]}] is not a known table{hint}")
            continue
        lines.append(_line(location(where, loc, table_names, program_names), _describe(problem, model)))
    return list(dict.fromkeys(lines))


def _line(where: str, message: str) -> str:
    if not where:
        return message
    joiner = " " if message.startswith(("must ", "is ", "names ", "never ")) else ": "
    return where + joiner + message


def location(where: str, loc: tuple, table_names=None, program_names=None) -> str:
    """``[report]`` + ``("smtp_port",)`` -> ``[report].smtp_port``; list items as ``[2]``."""
    text = where
    loc = tuple(part for part in loc if not str(part).startswith(("function-", "tagged-union")))
    if not where and loc:
        if loc[0] == "program" and len(loc) > 1 and isinstance(loc[1], int):
            text, loc = (program_names or {}).get(loc[1], f"program[{loc[1]}]"), loc[2:]
        elif loc[0] == "program" and len(loc) == 1:
            text, loc = "[[program]]", ()
        else:
            text, loc = f"[{loc[0]}]", loc[1:]
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_TYPES = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "string_type": "a string",
    "bool_type": "true or false", "tuple_type": "a list", "list_type": "a list", "dict_type": "a table",
    "model_type": "a table", "model_attributes_type": "a table",
}


def _describe(problem: dict, model) -> str:
    kind, value, ctx = problem["type"], problem.get("input"), problem.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown(problem["loc"], model)
    if kind == "missing":
        return "is required"
    if kind in _TYPES:
        return f"must be {_TYPES[kind]}, not {_show(value)}"
    if kind == "finite_number":
        return f"must be a finite number, not {_show(value)}"
    whole = "a whole number" if isinstance(value, int) else "a number"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()))
        word = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        return f"must be {whole} {word} {bound}, not {_show(value)}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", problem["msg"]))
    return problem["msg"][0].lower() + problem["msg"][1:]


def _show(value) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown(loc: tuple, model) -> str:
    """``is not a known setting (did you mean …?)``, with the known names of that table."""
    fields = _fields_at(model, loc[:-1])
    name = str(loc[-1])
    close = difflib.get_close_matches(name, fields, n=1)
    hint = f" (did you mean {close[0]}?)" if close else (f" (known: {', '.join(fields)})" if fields else "")
    return f"is not a known setting{hint}"


def _fields_at(model, loc: tuple) -> list[str]:
    """The keys a table at ``loc`` may hold (aliases as written in TOML)."""
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = _field(model, part)
        model = _model_of(field.annotation) if field else None
    if model is None or not hasattr(model, "model_fields"):
        return []
    names = []
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.append(choices[0] if choices else (alias or name))
    return names + list(getattr(model, "EXTRA_KEYS", ()))


def _field(model, name):
    for field_name, field in model.model_fields.items():
        aliases = getattr(field.validation_alias, "choices", None) or [field.validation_alias or field_name]
        if name == field_name or name in aliases:
            return field
    return None


def _model_of(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


_SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def scrapy_setting(name: str, value):
    """A Scrapy setting's value, checked (and converted from a string) by the type of Scrapy's default.

    Raises ValueError ("is not a Scrapy setting", "must be a number …") for a name
    Scrapy does not know (``WWC_*`` are this project's own) or a value of the wrong type.
    """
    from scrapy.settings import default_settings

    known = [key for key in dir(default_settings) if _SETTING_NAME.match(key)]
    if name.startswith("WWC_MAX_"):  # the crawl's limits: whole numbers, 0 turns one off
        number = _setting_number(name, value, 0)
        if not float(number).is_integer() or number < 0:
            raise ValueError(f"must be a whole number >= 0 (0 turns the limit off), not {_show(value)}")
        return int(number)
    if name.startswith("WWC_") and _SETTING_NAME.match(name):
        return value
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        raise ValueError("is not a Scrapy setting" + (f" (did you mean {close[0]}?)" if close else ""))
    default = getattr(default_settings, name)
    if default is None:
        return value
    if isinstance(default, bool):
        return _setting_bool(name, value)
    if isinstance(default, (int, float)):
        return _setting_number(name, value, default)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"must be a string, not {_show(value)}")
        return value
    if isinstance(default, dict) or hasattr(default, "keys"):
        return _setting_json(name, value, dict, "a table")
    if isinstance(default, (list, tuple)):
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return _setting_json(name, value, list, "a list")
    return value


def _setting_bool(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    words = {"true": True, "false": False, "1": True, "0": False}
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise ValueError(f"must be true or false, not {_show(value)}")


def _setting_number(name: str, value, default):
    number = value
    if isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or number != number \
            or number in (float("inf"), float("-inf")) or abs(number) > 10**12:
        raise ValueError(f"must be a number (Scrapy's default is {default!r}), not {_show(value)}")
    return number


def _setting_json(name: str, value, kind: type, words: str):
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"must be {words} in JSON, not {_show(value)}") from None
    if not isinstance(value, kind):
        raise ValueError(f"must be {words}, not {_show(value)}")
    return value
