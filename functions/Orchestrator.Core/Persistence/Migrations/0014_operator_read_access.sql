-- On Azure Database for PostgreSQL the app signs in as its managed identity and owns every table it creates; the
-- on-call engineer signs in as another Entra administrator (a member of azure_pg_admin, not a superuser), who could
-- not read them, so the runbook's psql queries would answer "permission denied". Grant that role read access to
-- the product's tables, now and for every table later migrations create. Elsewhere (no azure_pg_admin) nothing changes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'azure_pg_admin') THEN
        GRANT USAGE ON SCHEMA public TO azure_pg_admin;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO azure_pg_admin;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO azure_pg_admin;
    END IF;
END
$$;
