/** Lookups over a built world. */
import type { Entity, Fact, FactWorld, RelationId } from "./types.js";

export function entitiesOf(world: Pick<FactWorld, "entities">, type: Entity["type"]): string[] {
  return world.entities.filter((e) => e.type === type).map((e) => e.name);
}

/** The first names people have (arithmetic problems and dialogues use them). */
export function firstNamesOf(world: Pick<FactWorld, "entities">): string[] {
  return [...new Set(entitiesOf(world, "person").map((p) => p.split(" ")[0]!))];
}

export function factsOf(world: Pick<FactWorld, "facts">, relation: RelationId): Fact[] {
  return world.facts.filter((f) => f.relation === relation);
}
