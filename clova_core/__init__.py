"""clova_core: the framework-free core that speaks CLOVA Studio's native API."""
