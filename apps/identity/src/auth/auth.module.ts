import { Module } from '@nestjs/common';

/** Placeholder until the feature is built (issue 6). */
@Module({})
export class AuthModule {}
