import type { FlowRepository, StoredFlow } from "@keyturn/usecases";
import { flowRulesJson, flowRulesOf } from "./flow-rules.js";
import type { Tx } from "./prisma-types.js";

export function createFlowRepository(tx: Tx): FlowRepository {
  const current = async (name: string): Promise<StoredFlow | null> => {
    const flow = await tx.flow.findUnique({ where: { name } });
    if (flow === null) {
      return null;
    }
    const version = await tx.flowVersion.findUniqueOrThrow({
      where: { flowName_version: { flowName: name, version: flow.currentVersion } },
    });
    return {
      ref: { name, version: version.version, rules: flowRulesOf(version.rules) },
      archived: flow.archivedAt !== null,
    };
  };
  return {
    getCurrent: current,
    async lockCurrent(name) {
      // An advisory lock on the name, not a row lock: the row does not exist before the first PUT,
      // and two first PUTs must queue rather than collide on the primary key.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`flow:${name}`}))`;
      return current(name);
    },
    async getVersion(name, version) {
      const row = await tx.flowVersion.findUnique({
        where: { flowName_version: { flowName: name, version } },
      });
      return row === null ? null : { name, version, rules: flowRulesOf(row.rules) };
    },
    async saveVersion({ name, version, rules, createdBy }) {
      await tx.flow.upsert({
        where: { name },
        create: { name, currentVersion: version },
        update: { currentVersion: version, archivedAt: null },
      });
      await tx.flowVersion.create({
        data: { flowName: name, version, rules: flowRulesJson(rules), createdBy },
      });
    },
    async archive(name, at) {
      await tx.flow.update({ where: { name }, data: { archivedAt: at } });
    },
  };
}
