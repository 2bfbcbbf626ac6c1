"""The shipment-update direction: ShipStation labels and fulfillments become Order Time ship notices."""
