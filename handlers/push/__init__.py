"""Renderers of outbox kinds that need more than one catalogue entry. Importing this package
registers them all (one module per subject)."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
