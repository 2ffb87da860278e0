"""The national data set (`flask demo seed --scale national`): every county of the country as a
tenant, millions of members, transfers and agreements in every state, loaded in bulk on PostgreSQL.
DEMO ONLY, like the demo seed: development configuration, empty database."""
