/**
 * `@peculiar/x509`, loaded the one way that works here.
 *
 * The library resolves its algorithms through tsyringe, which refuses to load unless a Reflect
 * metadata API exists (its README asks for the `reflect-metadata` package). We do not add that
 * dependency for four functions: the polyfill below installs a minimal WeakMap-backed
 * `Reflect.getMetadata`/`defineMetadata` only when none is present. ESM evaluates imports in order,
 * so the polyfill runs before the library. Import x509 from this module, never from the package.
 */
import './reflect-metadata.ts';

export * from '@peculiar/x509';
