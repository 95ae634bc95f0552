"""flask-framework's ``Utils``: only ``Utils.Auth`` is provided (its scaffolding is ``conexoos new``)."""

from conexoos.compat.missing import module_getattr

__getattr__ = module_getattr(
    "flask_framework.Utils",
    {
        name: "`conexoos new` scaffolds a project"
        for name in ("generate", "make_auth", "make_controller", "make_middleware", "make_project")
    },
)
