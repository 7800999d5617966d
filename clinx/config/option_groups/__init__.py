"""Option declarations, one module per settings group of newapi-contract §9; ``clinx.config.option_keys`` joins
them into the registry."""
