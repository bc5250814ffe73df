// The README names the search attributes a namespace needs in more than one place; the code writes the ones in
// src/domain/run-contract/search-attributes.ts. This keeps every list in the README equal to that one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createSearchAttributeCommand,
  SEARCH_ATTRIBUTES,
  searchAttributesInProse,
} from '../../src/domain/run-contract/search-attributes.js';

const readme = readFileSync('README.md', 'utf8').replace(/\s+/g, ' ');
const TYPE = '(?:Text|Keyword|Int|Double|Bool|Datetime|KeywordList)';
const ATTRIBUTE = `\`\\w+\` \\(${TYPE}\\)`;
/** Every run of "`Name` (Type)" items joined by ", " and " and ": each is one list of search attributes. */
const lists = [...readme.matchAll(new RegExp(`${ATTRIBUTE}(?:(?:, | and )${ATTRIBUTE})*`, 'g'))].map(
  (match) => match[0],
);

describe("the README's search attributes", () => {
  it('lists them where a namespace is set up: the cluster, production and cluster-setup sections', () => {
    expect(lists.length).toBeGreaterThanOrEqual(3);
  });

  it('lists every one of src/domain/run-contract/search-attributes.ts, with its type, and no other, each time', () => {
    for (const list of lists) expect(list).toBe(searchAttributesInProse());
  });

  it('names no other search attribute with a type anywhere', () => {
    const named = [...readme.matchAll(new RegExp(`\`(\\w+)\` \\((${TYPE})\\)`, 'g'))].map(
      (match) => `${match[1]}=${match[2]}`,
    );
    const known = Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => `${name}=${type}`);
    for (const entry of named) expect(known).toContain(entry);
  });

  it("shows a create command that the worker's message would print", () => {
    const shown = /`(temporal operator search-attribute create --namespace NS --name (\w+) --type \w+)`/.exec(readme);
    expect(shown).not.toBeNull();
    expect(shown![1]).toBe(createSearchAttributeCommand('NS', shown![2]!));
  });

  it('the prose is the list in its order', () => {
    expect(searchAttributesInProse()).toBe(
      '`ComposeId` (Keyword), `Release` (Keyword), `GateDecision` (KeywordList) and `StaleRepositories` (KeywordList)',
    );
  });
});
