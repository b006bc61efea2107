# syntax=docker/dockerfile:1
# Build stage: compile the release binary (PostgreSQL client library needed to link diesel).
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY crates ./crates
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY tests ./tests
# A production image carries no Meta sandbox (`parley demo` and `parley sandbox` are absent).
# For a demo image: docker build --build-arg PARLEY_FEATURES= -t parley-demo .
ARG PARLEY_FEATURES=--no-default-features
RUN cargo build --release --locked --bin parley $PARLEY_FEATURES

# Runtime stage: the binary, its static files, libpq, and the PostgreSQL server binaries so that
# Parley can run its own database without DATABASE_URL (and a demo image its `parley demo`).
# Runs as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates postgresql \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/parley --shell /usr/sbin/nologin parley
COPY --from=build /src/target/release/parley /usr/local/bin/parley
COPY static /usr/share/parley/static
ENV PARLEY_STATIC_DIR=/usr/share/parley/static \
    PARLEY_DATA_DIR=/var/lib/parley \
    PARLEY_BIND=0.0.0.0:8080
USER parley
WORKDIR /var/lib/parley
VOLUME ["/var/lib/parley"]
EXPOSE 8080
# Asks /readyz over loopback (no shell, no curl: the image has neither /dev/tcp nor curl).
HEALTHCHECK --interval=30s --timeout=3s CMD ["/usr/local/bin/parley", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
