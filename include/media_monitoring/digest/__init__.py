"""Daily digests: compose from the warehouse, store, render (HTML + text) and deliver once."""
