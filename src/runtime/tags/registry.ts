// Several bundles used together, looked up by tag name: a <SMILES> domain tag from one
// bundle can serve the <QED> and <LogP> function tags of others. Bundles trained from the same
// start often each carry a copy of the same domain tag: identical copies are one tag. A name
// held by two bundles with different vectors is an error, since there would be no telling
// which vectors were meant.
import { ShapeMismatchError, UsageError } from '../errors';
import type { TagBundle, TagMeta } from './bundle';
import { fingerprintDifferences } from './fingerprint';
import type { LinearHead } from './head';
import type { TagName, TagValue } from './name';

/** A bundle and where it came from (its folder, or a label for one built in memory). */
export interface SourcedTagBundle {
  readonly path: string;
  readonly bundle: TagBundle;
}

export interface RegisteredTag {
  readonly name: TagName;
  readonly meta: TagMeta;
  readonly value: TagValue;
  readonly head?: LinearHead;
  /** The path of the bundle that holds it. */
  readonly bundlePath: string;
}

export class TagRegistry {
  private constructor(private readonly byName: ReadonlyMap<TagName, RegisteredTag>) {}

  static compose(bundles: readonly SourcedTagBundle[]): TagRegistry {
    const byName = new Map<TagName, RegisteredTag>();
    const first = bundles[0];
    for (const { path, bundle } of bundles) {
      const differs = fingerprintDifferences(first.bundle.meta.baseModel, bundle.meta.baseModel);
      if (differs.length > 0) throw new ShapeMismatchError(`bundles were made for different models (${first.path} vs this: ${differs.join(', ')})`, path);
      for (const [name, value] of bundle.values) {
        const held = byName.get(name);
        if (held && sameVectors(held.value, value) && held.head === undefined && !bundle.heads.has(name)) continue;
        if (held) throw new UsageError(`tag ${name} is defined differently by two bundles: ${held.bundlePath} and ${path}`);
        byName.set(name, { name, meta: bundle.meta.tags[name], value, head: bundle.heads.get(name), bundlePath: path });
      }
    }
    return new TagRegistry(byName);
  }

  get names(): TagName[] {
    return [...this.byName.keys()];
  }

  /** Function tags with a regression head, in bundle order. */
  get predictors(): RegisteredTag[] {
    return [...this.byName.values()].filter((t) => t.meta.kind === 'function' && t.head !== undefined);
  }

  /** Function tags that write text (meta.output 'text'), in bundle order. */
  get textWriters(): RegisteredTag[] {
    return [...this.byName.values()].filter((t) => t.meta.kind === 'function' && t.meta.output === 'text');
  }

  has(name: TagName): boolean {
    return this.byName.has(name);
  }

  get(name: TagName): RegisteredTag {
    const tag = this.byName.get(name);
    if (!tag) throw new UsageError(`no bundle defines tag ${name}; loaded tags: ${this.names.join(', ') || 'none'}`);
    return tag;
  }

  value(name: TagName): TagValue {
    return this.get(name).value;
  }
}

function sameVectors(a: TagValue, b: TagValue): boolean {
  return a.p === b.p && a.hiddenSize === b.hiddenSize && a.data.every((x, i) => x === b.data[i]);
}
