"""E-mail backends of our own."""

from django.core.mail.backends.base import BaseEmailBackend


class NoDeliveryBackend(BaseEmailBackend):
    """``EMAIL_URL=dummymail://``: delivers nothing and says so (0 sent), so no buyer e-mail counts as sent."""

    def send_messages(self, email_messages) -> int:
        return 0
