"""Schemathesis hooks for scripts/fuzz-api (loaded through SCHEMATHESIS_HOOKS).

Schemathesis 4.32.5's coverage phase can label a whole test case "positive" while one of
its components is negative: a near-boundary path parameter (positive) sent with a body
from a negative sample (e.g. the JSON `0` for an object). positive_data_acceptance then
reports the server's correct 400 as "valid data rejected". This hook labels such a case
negative, as its components say, so it is still sent and checked, as the negative case it
is. It changes no other case.
"""

import schemathesis
from schemathesis.generation.modes import GenerationMode


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return case
    if any(info.mode == GenerationMode.NEGATIVE for info in meta.components.values()):
        meta.generation.mode = GenerationMode.NEGATIVE
    return case
