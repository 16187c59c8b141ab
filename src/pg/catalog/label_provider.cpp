/*-------------------------------------------------------------------------
 *
 * label_provider.cpp
 *		The security label provider "retention": validates a label before
 *		PostgreSQL stores it, and keeps labels right when columns are
 *		renamed.
 *
 *		SECURITY LABEL already checks that the caller owns the table; the
 *		provider checks the label itself (syntax, methods, columns, stage
 *		order, subject path) so that nothing invalid is ever stored, then
 *		invalidates every backend's policy cache.
 *
 * IDENTIFICATION
 *		src/pg/catalog/label_provider.cpp
 *-------------------------------------------------------------------------
 */
#include <string>

#include "base/error.hpp"
#include "label/policy.hpp"

#include "catalog/catalog.hpp"
#include "catalog/citus.hpp"
#include "boundary/guard.hpp"
#include "write_path/citus_trigger.hpp"
#include "write_path/minimize.hpp"
#include "module.hpp"
#include "catalog/policy_store.hpp"

namespace pg_retention::pg
{

namespace
{

ProcessUtility_hook_type prev_process_utility = nullptr;

/* Refuses objects a retention label cannot describe. */
void CheckLabelTarget(const ObjectAddress &object)
{
	if (object.classId != RelationRelationId)
		throw Error(ErrorKind::FeatureNotSupported,
		            "retention labels can only be set on tables and their columns");
	char relkind = PgCall([&] { return get_rel_relkind(object.objectId); });
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		throw Error(ErrorKind::FeatureNotSupported,
		            "retention labels can only be set on tables and their columns",
		            "views, materialized views, foreign tables and sequences hold no rows of "
		            "their own to retain");
	bool is_partition = PgCall([&] { return get_rel_relispartition(object.objectId); });
	if (is_partition)
		throw Error(ErrorKind::FeatureNotSupported, "retention labels cannot be set on a partition",
		            "a partition follows the rules of its partitioned table",
		            "set the label on the partitioned table; every partition, present and "
		            "future, applies it");
	Oid extension = PgCall([] { return get_extension_oid("pg_retention", true); });
	if (!OidIsValid(extension))
		throw Error(ErrorKind::ObjectNotInPrerequisiteState,
		            "extension \"pg_retention\" is not installed in this database", "",
		            "run CREATE EXTENSION pg_retention first");
}

/*
 * Citus replays a table's labels on its shards (labels set before
 * distribution, shard moves and splits) and forwards a label set on a Citus
 * table to the other nodes' shell tables; a node that is not the
 * coordinator also receives the copies over Citus's own connections before
 * its catalog says what the relation is.  The coordinator validated them
 * against its Citus table: here their syntax is checked, nothing else (a
 * shard is not a second subject table), and the shards of this node get
 * their write trigger.  Returns false for a label to validate.
 */
bool AcceptReplayedLabel(const ObjectAddress &object, const char *seclabel)
{
	if (!CitusPresent())
		return false;
	CitusRelation citus = CitusRelationOf(object.objectId);
	bool replayed = citus.kind == CitusKind::Shard || citus.kind == CitusKind::Shell;
	if (!replayed && (citus.kind != CitusKind::None || IsCitusCoordinator()))
		return false;
	if (!replayed) {
		const char *application =
		    PgCall([] { return GetConfigOption("application_name", true, false); });
		if (application == nullptr || strncmp(application, "citus_internal", 14) != 0)
			return false;
	}
	if (seclabel != nullptr) {
		if (object.objectSubId == 0)
			ParseTableLabel(seclabel);
		else
			ParseColumnLabel(seclabel);
		/* not known yet: a shard being created (a shell's trigger would never fire) */
		if (!replayed)
			citus.kind = CitusKind::Shard;
		SyncReplayedWriteTriggers(object.objectId, citus);
	}
	return true;
}

/* Validates, then lets every backend know the declarations changed. */
void Relabel(const ObjectAddress &object, const char *seclabel)
{
	CheckLabelTarget(object);
	if (AcceptReplayedLabel(object, seclabel)) {
		PgCall([&] { CacheInvalidateRelcacheByRelid(object.objectId); });
		InvalidatePolicyCache();
		return;
	}
	DeclaredTable table = ValidateProposedLabel(object.objectId, object.objectSubId, seclabel);
	SyncWriteTrigger(table);
	PgCall([&] { CacheInvalidateRelcacheByRelid(object.objectId); });
	InvalidatePolicyCache();
}

extern "C" void RetentionRelabelHook(const ObjectAddress *object, const char *seclabel)
{
	InvokeGuarded("SECURITY LABEL", Relabel, *object, seclabel);
}

/*
 * A renamed column keeps its own labels (they follow the attnum) but the
 * table label may name it: rewrite those names in place, keeping the rest
 * of the text as the user wrote it.
 */
void RewriteLabelAfterRename(const RenameStmt &stmt)
{
	Oid relid = PgCall([&] { return RangeVarGetRelid(stmt.relation, NoLock, true); });
	if (!OidIsValid(relid))
		return;
	ObjectAddress table;
	ObjectAddressSet(table, RelationRelationId, relid);
	char *stored = PgCall([&] { return GetSecurityLabel(&table, kLabelProvider); });
	if (stored == nullptr)
		return;
	std::string label = stored;
	TablePolicy policy = ParseTableLabel(label);
	std::string quoted = QuoteIdent(stmt.newname);
	bool changed = false;
	/* splice from the end so earlier offsets stay valid */
	for (auto it = policy.column_refs.rbegin(); it != policy.column_refs.rend(); ++it) {
		if (it->name != stmt.subname)
			continue;
		label.replace(it->offset, it->length, quoted);
		changed = true;
	}
	if (changed)
		PgCall([&] { SetSecurityLabel(&table, kLabelProvider, label.c_str()); });
}

/* Whether an ALTER TABLE changes the type of a column or drops one (see
 * DropWriteTriggersBeforeAlter). */
bool AltersTriggerColumns(const AlterTableStmt *stmt)
{
	if (stmt->objtype != OBJECT_TABLE)
		return false;
	ListCell *lc;
	foreach (lc, stmt->cmds) {
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		if (cmd->subtype == AT_AlterColumnType || cmd->subtype == AT_DropColumn)
			return true;
	}
	return false;
}

extern "C" void RetentionProcessUtility(PlannedStmt *pstmt, const char *query_string,
                                        bool read_only_tree, ProcessUtilityContext context,
                                        ParamListInfo params, QueryEnvironment *query_env,
                                        DestReceiver *dest, QueryCompletion *qc)
{
	Node *parsetree = pstmt->utilityStmt;
	/*
	 * The write triggers are created with their labels; pg_restore replays
	 * labels before triggers, so its CREATE TRIGGER finds them already there.
	 * 0.1.0's retention_write (a dump of 0.1.0) is replaced by them.
	 */
	if (IsA(parsetree, CreateTrigStmt)) {
		CreateTrigStmt *trig = castNode(CreateTrigStmt, parsetree);
		if (IsWriteTriggerName(trig->trigname) && !trig->replace) {
			Oid relid = RangeVarGetRelid(trig->relation, NoLock, true);
			if (strcmp(trig->trigname, kLegacyWriteTrigger) == 0 &&
			    strcmp(strVal(llast(trig->funcname)), "write_trigger") == 0) {
				ereport(
				    NOTICE,
				    (errmsg("trigger \"%s\" of pg_retention 0.1.0 is not restored", trig->trigname),
				     errdetail("The table's retention rules create its write triggers.")));
				return;
			}
			if (OidIsValid(relid) && OidIsValid(get_trigger_oid(relid, trig->trigname, true))) {
				ereport(NOTICE, (errmsg("trigger \"%s\" already exists, skipping", trig->trigname),
				                 errdetail("It was created with the table's retention rules.")));
				return;
			}
		}
	}
	Oid altered = InvalidOid;
	if (IsA(parsetree, AlterTableStmt) &&
	    AltersTriggerColumns(castNode(AlterTableStmt, parsetree))) {
		Oid relid = RangeVarGetRelid(castNode(AlterTableStmt, parsetree)->relation, NoLock, true);
		if (OidIsValid(relid))
			altered = InvokeGuarded("ALTER TABLE", DropWriteTriggersBeforeAlter, relid);
	}
	if (prev_process_utility != nullptr)
		prev_process_utility(pstmt, query_string, read_only_tree, context, params, query_env, dest,
		                     qc);
	else
		standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env,
		                        dest, qc);

	if (OidIsValid(altered))
		InvokeGuarded("ALTER TABLE", RecreateWriteTriggersAfterAlter, altered);
	/* tables labelled before Citus: their ordinary write triggers would stop distribution */
	if (IsA(parsetree, CreateExtensionStmt) &&
	    strcmp(castNode(CreateExtensionStmt, parsetree)->extname, "citus") == 0)
		InvokeGuarded("CREATE EXTENSION", ConvertWriteTriggersForCitus);
	if (IsA(parsetree, CreateStmt) && castNode(CreateStmt, parsetree)->partbound != nullptr) {
		Oid relid = RangeVarGetRelid(castNode(CreateStmt, parsetree)->relation, NoLock, true);
		InvokeGuarded("CREATE TABLE", InheritWriteTrigger, relid);
	}
	if (IsA(parsetree, AlterTableStmt)) {
		ListCell *lc;
		foreach (lc, castNode(AlterTableStmt, parsetree)->cmds) {
			AlterTableCmd *cmd = static_cast<AlterTableCmd *>(lfirst(lc));
			if (cmd->subtype != AT_AttachPartition)
				continue;
			Oid relid = RangeVarGetRelid(castNode(PartitionCmd, cmd->def)->name, NoLock, true);
			InvokeGuarded("ATTACH PARTITION", InheritWriteTrigger, relid);
		}
	}
	if (IsA(parsetree, RenameStmt)) {
		RenameStmt *stmt = castNode(RenameStmt, parsetree);
		if (stmt->renameType == OBJECT_COLUMN && stmt->relationType == OBJECT_TABLE)
			InvokeGuarded("RENAME COLUMN", RewriteLabelAfterRename, *stmt);
	}
}

extern "C" void RetentionRelcacheCallback(Datum arg, Oid relid)
{
	InvalidatePolicyCache();
}

/* pg_upgrade restores the labels the old cluster validated, as they are. */
extern "C" void AcceptRestoredLabel(const ObjectAddress *, const char *) {}

} // namespace

void RegisterLabelProviderForUpgrade()
{
	register_label_provider(kLabelProvider, AcceptRestoredLabel);
}

void RegisterLabelProvider()
{
	register_label_provider(kLabelProvider, RetentionRelabelHook);
	CacheRegisterRelcacheCallback(RetentionRelcacheCallback, (Datum)0);
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = RetentionProcessUtility;
}

} // namespace pg_retention::pg
