/* Formatted output: integers, floats in every conversion, strings,
 * widths and precisions, and the environment and arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        printf("argv[%d] = %s\n", i > 0 ? i : 0, i > 0 ? argv[i] : "(name)");
    }
    const char *greeting = getenv("GREETING");
    printf("GREETING = %s\n", greeting ? greeting : "(unset)");
    printf("%d %5d %-5d| %x %o %llu\n", -42, 7, 7, 0xbeef, 8, 18446744073709551615ull);
    double values[] = {0.0, -0.0, 1.0 / 3.0, 2.5e-300, 6.02214076e23, M_PI, sqrt(2.0)};
    for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
        printf("%f %.3e %g %.17g %a\n", values[i], values[i], values[i], values[i], values[i]);
    }
    printf("%.2f %8.3f %-8.1f|\n", 1234.5678, -0.5, 99.95);
    printf("%s %10s %-10s| %c\n", "ward", "right", "left", 'w');
    float f = 1.1f;
    printf("%.9g %.9g\n", f, (double)f * 3.0);
    printf("exp %.6f log %.6f sin %.6f pow %.6f\n", exp(1.0), log(10.0), sin(1.0), pow(2.0, 0.5));
    return 0;
}
