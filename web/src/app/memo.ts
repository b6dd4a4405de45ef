import { createElement, type Component, type FunctionComponent } from 'preact';

function shallowDiffers(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (k !== '__source' && !(k in y)) return true;
  for (const k in y) if (k !== '__source' && x[k] !== y[k]) return true;
  return false;
}

/** Like React.memo: skips re-rendering `fn` when its props are shallowly equal (without pulling in preact/compat). */
export function memo<P extends object>(fn: FunctionComponent<P>): FunctionComponent<P> {
  function shouldUpdate(this: Component<P>, next: P): boolean {
    return shallowDiffers(this.props, next);
  }
  function Memoed(this: Component<P>, props: P) {
    this.shouldComponentUpdate = shouldUpdate;
    return createElement(fn, props);
  }
  Memoed.displayName = `Memo(${fn.displayName ?? fn.name})`;
  return Memoed as FunctionComponent<P>;
}
