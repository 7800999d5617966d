"""Every option key Clinx knows (newapi-contract §9), with its type, default, validation and secret flag.

The declarations live in ``clinx.config.option_groups``, one module per settings group; this module joins them.
"""

from __future__ import annotations

from clinx.config.option_groups import auth, billing, features, relay, site
from clinx.config.options import OptionRegistry, OptionSpec

SPECS: list[OptionSpec] = [*site.SPECS, *auth.SPECS, *billing.SPECS, *relay.SPECS, *features.SPECS]


def build_registry() -> OptionRegistry:
    return OptionRegistry(SPECS)
