"""Built-in civic plugins; each is registered through the `civic` entry-point group."""
