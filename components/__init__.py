"""Component resources and the pure pieces they are built from."""
