"""HTTP clients for Order Time and ShipStation.

Nothing in this package imports Django: the clients can be read, run and tested alone.
"""
