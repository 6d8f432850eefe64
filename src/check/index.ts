/** `reprimage check`: build twice under varied environments and compare (docs/check.md). */
export { runCheck, findCauses, type CheckOptions, type CheckReport, type ArtifactResult, type BisectReport, type BisectTrial } from './check.js';
export { planFromCommand, planFromRecipe, type BuildPlan } from './plan.js';
export { VARIATION_IDS, detectVariations, parseVariationList, type VariationId, type Variation, type SkippedVariation, type BuildSetup } from './variations.js';
export { renderCheckText, renderCheckJson } from './report.js';
