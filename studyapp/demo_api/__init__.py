"""Demo types and the catalogue registry. Imports no torch."""

from studyapp.demo_api.registry import (
    UnknownDemoError,
    all_specs,
    check_link,
    demo_ids,
    get_spec,
    has_demo,
)
from studyapp.demo_api.result import (
    Cancelled,
    Claim,
    DemoOutput,
    DemoResult,
    PlotSpec,
    Progress,
    Table,
    no_progress,
    non_finite_fields,
)
from studyapp.demo_api.spec import (
    DemoSpec,
    Param,
    ParamError,
    bool_param,
    choice_param,
    device_param,
    float_param,
    int_param,
)

__all__ = [
    "Cancelled",
    "Claim",
    "DemoOutput",
    "DemoResult",
    "DemoSpec",
    "Param",
    "ParamError",
    "PlotSpec",
    "Progress",
    "Table",
    "UnknownDemoError",
    "all_specs",
    "bool_param",
    "check_link",
    "choice_param",
    "demo_ids",
    "device_param",
    "float_param",
    "get_spec",
    "has_demo",
    "int_param",
    "no_progress",
    "non_finite_fields",
]
