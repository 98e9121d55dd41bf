// Package layers holds the test that keeps docs/architecture.md's package
// tables true: every package of the module listed once, each package's
// imports as the table says, no import pointing up the table, and the
// dependencies the table says a package never has.
package layers
