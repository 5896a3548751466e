"""After adoption: the city's departments (担当課) and the agreement (協定書) of an adopted project."""
