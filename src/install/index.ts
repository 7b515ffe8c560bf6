/**
 * Installing landlord on a cluster: the pure rendering of its objects (`platformManifests`, the
 * source of `deploy/`), the demo tenant's objects, and the act step `landlord up` and the tests
 * share (`installPlatform`, `installDemo`), which applies them and waits until they serve.
 */
export {
  allObjects, componentNames, controllerNodeFlags, defaultHostPorts, genericPlatformOptions, platformManifests,
  type Component, type PlatformManifests, type PlatformOptions, type RouterExposure, type RouterHostPorts,
} from './manifests.ts';
export { demoDatabaseUser, demoHosts, demoObjects, demoTenant, rootCaFileName, type DemoImages, type DemoObjects } from './demo.ts';
export { installDemo, installFieldManager, installPlatform, readRootCertificate, removePlatform, type HostAddress, type InstallOptions } from './install.ts';
export { caBundleSet, deploymentProgress, podTrouble, type DeploymentProgress } from './readiness.ts';
export { platformStatus, type PlatformStatus } from './status.ts';
