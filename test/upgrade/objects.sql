-- Every object of pg_retention in a database, one text line each (newlines
-- of definitions written \n), in an
-- order that does not depend on OIDs: extension membership, schemas, functions
-- (definition, volatility, strictness, security, settings, owner, ACL,
-- comment), relations (kind, owner, ACL, options, row security, comment),
-- columns (position, type, default, nullability, identity, collation, ACL,
-- comment), constraints, indexes, triggers, policies, views, sequences,
-- types, the initial privileges pg_dump relies on, and the configuration
-- tables.  test/t/060_upgrade.pl compares an updated database with a fresh one.
SET search_path = pg_catalog;
WITH ext AS (SELECT * FROM pg_extension WHERE extname = 'pg_retention'),
member AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
nsp AS (SELECT oid, nspname FROM pg_namespace WHERE nspname IN ('retention', 'retention_archive')),
rel AS (SELECT c.* FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace)
SELECT replace(line, E'\n', E'\\n') FROM (
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM member
    UNION ALL
    SELECT format('extension schema=%s relocatable=%s config=%s', extnamespace::regnamespace,
                  extrelocatable,
                  (SELECT string_agg(c::regclass::text || ':' || coalesce(w, ''), ', ' ORDER BY c::regclass::text)
                   FROM unnest(extconfig, extcondition) AS u(c, w)))
    FROM ext
    UNION ALL
    SELECT format('schema %s owner=%s acl=%s comment=%s', n.nspname, n.nspowner::regrole,
                  n.nspacl, obj_description(n.oid, 'pg_namespace'))
    FROM pg_namespace n JOIN nsp USING (oid)
    UNION ALL
    SELECT format('function %s kind=%s volatile=%s strict=%s secdef=%s parallel=%s leakproof=%s '
                  'cost=%s rows=%s config=%s owner=%s acl=%s comment=%s' || E'\n%s',
                  p.oid::regprocedure, p.prokind, p.provolatile, p.proisstrict, p.prosecdef,
                  p.proparallel, p.proleakproof, p.procost, p.prorows, p.proconfig,
                  p.proowner::regrole, p.proacl, obj_description(p.oid, 'pg_proc'),
                  CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END)
    FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace
    UNION ALL
    SELECT format('relation %s kind=%s persistence=%s owner=%s acl=%s options=%s rls=%s/%s '
                  'comment=%s', c.oid::regclass, c.relkind, c.relpersistence, c.relowner::regrole,
                  c.relacl, c.reloptions, c.relrowsecurity, c.relforcerowsecurity,
                  obj_description(c.oid, 'pg_class'))
    FROM rel c
    UNION ALL
    SELECT format('column %s #%s %s type=%s notnull=%s default=%s identity=%s generated=%s '
                  'collation=%s acl=%s comment=%s', a.attrelid::regclass,
                  row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), a.attname,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  a.attcollation::regcollation, a.attacl, col_description(a.attrelid, a.attnum))
    FROM pg_attribute a JOIN rel c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s on %s: %s', co.conname, co.conrelid::regclass,
                  pg_get_constraintdef(co.oid))
    FROM pg_constraint co JOIN rel c ON c.oid = co.conrelid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN rel c ON c.oid = i.indrelid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN rel c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s on %s: %s %s to %s using %s check %s', pol.polname,
                  pol.polrelid::regclass, pol.polcmd, pol.polpermissive,
                  pol.polroles::regrole[], pg_get_expr(pol.polqual, pol.polrelid),
                  pg_get_expr(pol.polwithcheck, pol.polrelid))
    FROM pg_policy pol JOIN rel c ON c.oid = pol.polrelid
    UNION ALL
    SELECT format('view %s: %s', c.oid::regclass, pg_get_viewdef(c.oid))
    FROM rel c WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
                  s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement,
                  s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
    FROM pg_sequence s JOIN rel c ON c.oid = s.seqrelid
    UNION ALL
    SELECT format('type %s kind=%s owner=%s acl=%s comment=%s', t.oid::regtype, t.typtype,
                  t.typowner::regrole, t.typacl, obj_description(t.oid, 'pg_type'))
    FROM pg_type t JOIN nsp ON nsp.oid = t.typnamespace
    UNION ALL
    SELECT format('initial privileges %s %s: %s', pg_describe_object(ip.classoid, ip.objoid,
                  ip.objsubid), ip.privtype, ip.initprivs)
    FROM pg_init_privs ip JOIN member m ON m.classid = ip.classoid AND m.objid = ip.objoid
) AS o(line)
ORDER BY line;
