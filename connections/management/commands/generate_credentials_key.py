from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new Fernet key for CREDENTIALS_KEY (put it first in the list to rotate)."

    def handle(self, *args, **opts):
        self.stdout.write(Fernet.generate_key().decode())
