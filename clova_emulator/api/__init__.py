"""API endpoints: parsing and validating each route's body and writing its wire shape."""
