# Förankra: one image, one binary. Multi-stage: build with the Rust toolchain, run on a
# slim Debian as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin forankra

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/forankra --create-home forankra
COPY --from=build /src/target/release/forankra /usr/local/bin/forankra
USER forankra
WORKDIR /var/lib/forankra
ENV FORANKRA_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["forankra"]
CMD ["serve"]
