package io.apicurio.common.apps.config;

import jakarta.enterprise.util.Nonbinding;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Documentation of a configuration property, as the Apicurio Registry 3.0.9 application's classes
 * use it: the served 3.0.6 annotation has a String category, 3.0.9's an enum. Stand-in, members
 * as the application reads them.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD})
public @interface Info {
    @Nonbinding ConfigPropertyCategory category() default ConfigPropertyCategory.CATEGORY_UNSPECIFIED;

    @Nonbinding String description() default "";

    @Nonbinding String availableSince() default "";

    @Nonbinding String registryAvailableSince() default "";

    @Nonbinding String studioAvailableSince() default "";

    @Nonbinding String[] seeAlso() default {};

    @Nonbinding String[] dependsOn() default {};
}
