"""Simulators of Order Time's Custom Store endpoint and ShipStation API V1.

Stateful WSGI apps (werkzeug), served over real HTTP on loopback, with no Django. They follow
``../shared/api/`` to the letter, including what the real services reject. Usable as pytest fixtures
(``SimulatorServer``) and standalone (``python -m sandbox``).
"""
