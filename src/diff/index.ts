/**
 * `reprimage/diff`: the format-aware comparison engine (two files, directories or images, compared
 * recursively into a tree of Differences) and its presenters (text, JSON, Markdown, HTML).
 */
export { diffPaths, diffBlobs, PATH_SEPARATOR, type DiffOptions } from './engine.js';
export { Difference } from './difference.js';
export { defaultComparators } from './registry.js';
export type { Comparator, ComparatorInput, Container, Member } from './comparator.js';
export { fileBlob, contentBlob, sourceBlob, type Blob } from './blob.js';
export { METADATA_CLASSES, parseMetadataClasses, type MetadataClass } from './metadata.js';
export { renderText, type TextOptions } from './presenters/text.js';
export { renderJson, toJson, type JsonDifference } from './presenters/json.js';
export { renderMarkdown } from './presenters/markdown.js';
export { renderHtml, writeHtmlDir, type HtmlOptions } from './presenters/html.js';
