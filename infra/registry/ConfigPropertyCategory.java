package io.apicurio.common.apps.config;

/**
 * The categories the Apicurio Registry 3.0.9 application names in its {@link Info} annotations
 * (read from its classes). Stand-in for the unserved config-definitions 3.0.9: names only.
 */
public enum ConfigPropertyCategory {
    CATEGORY_API, CATEGORY_AUTH, CATEGORY_CACHE, CATEGORY_CCOMPAT, CATEGORY_DOWNLOAD, CATEGORY_GITOPS,
    CATEGORY_HEALTH, CATEGORY_IMPORT, CATEGORY_LIMITS, CATEGORY_REDIRECTS, CATEGORY_REST,
    CATEGORY_SEMVER, CATEGORY_STORAGE, CATEGORY_SYSTEM, CATEGORY_UI, CATEGORY_UNSPECIFIED
}
