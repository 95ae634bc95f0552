"""The plugin's models, on the framework's ``db`` (default connection); its tables are in its own history."""

from .contact_form import ContactForm
from .contact_message import BODY_MAX, EMAIL_MAX, NAME_MAX, ContactMessage

__all__ = ["BODY_MAX", "EMAIL_MAX", "NAME_MAX", "ContactForm", "ContactMessage"]
