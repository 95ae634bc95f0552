"""flask-framework's API (1.1.x) served by Conexoos: ``flask_framework`` resolves here for a project when
flask-framework-mvc is not installed (see ``conexoos.framework.compat_import``)."""

from conexoos.compat.missing import module_getattr

__conexoos_compat__ = True
__getattr__ = module_getattr(
    "flask_framework",
    {"Task": "server/tasks.py (class Schedule) or Process.add_task", "Libs": "nothing (internal helpers)"},
)
