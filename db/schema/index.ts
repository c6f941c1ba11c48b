export * from "./users";
export * from "./auth";
export * from "./mail";
export * from "./inventory";
export * from "./audit";
export * from "./boot";
export * from "./images";
export * from "./deployments";
